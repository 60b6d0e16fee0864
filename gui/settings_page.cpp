#include "gui/settings_page.hpp"

#include <QCheckBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include "gui/autostart_entry.hpp"
#include "gui/config_error.hpp"
#include "gui/daemon_model.hpp"

namespace braid::gui {

namespace {

QLabel* error_label(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setStyleSheet(QStringLiteral("color: #cf2e2e;"));
  l->setWordWrap(true);
  l->hide();
  return l;
}

QJsonValue listener_value(const QLineEdit* e) {
  const QString t = e->text().trimmed();
  return t.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(t);
}

}  // namespace

SettingsPage::SettingsPage(DaemonModel& model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      auth_(new QCheckBox(tr("Require a username and password from local applications"), this)),
      autostart_(new QCheckBox(tr("Start Braid's tray icon when I log in"), this)),
      autostart_error_(error_label(this)),
      general_(new QLabel(this)),
      save_(new QPushButton(tr("Save"), this)),
      reload_(new QPushButton(tr("Reload"), this)) {
  auto* upstream = new QGroupBox(tr("Concentrator"), this);
  auto* upstream_form = new QFormLayout(upstream);
  concentrator_ = add_line(upstream_form, tr("Address"), tr("host:port — empty: connect to destinations directly"),
                           {QStringLiteral("concentrator"), QStringLiteral("concentrator.address")});
  auto* reveal = new QToolButton(this);
  reveal->setText(tr("Show"));
  reveal->setToolTip(tr("Show or hide the token"));
  reveal->setCheckable(true);
  token_ = add_line(upstream_form, tr("Token"), tr("the token the concentrator accepts"),
                    {QStringLiteral("concentrator.token")}, reveal);
  token_->setEchoMode(QLineEdit::Password);
  connect(reveal, &QToolButton::toggled, this,
          [this](bool on) { token_->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password); });

  auto* local = new QGroupBox(tr("Local proxy (restart the daemon to apply)"), this);
  auto* local_form = new QFormLayout(local);
  socks_ = add_line(local_form, tr("SOCKS5"), tr("127.0.0.1:1080 — empty: off"), {QStringLiteral("socks")});
  http_ = add_line(local_form, tr("HTTP proxy"), tr("127.0.0.1:8118 — empty: off"), {QStringLiteral("http")});
  mixed_ = add_line(local_form, tr("SOCKS5 + HTTP on one port"), tr("empty: off"), {QStringLiteral("mixed")});
  local_form->addRow(QString(), auth_);
  user_ = add_line(local_form, tr("Username"), QString(), {QStringLiteral("auth"), QStringLiteral("auth.username")});
  password_ = add_line(local_form, tr("Password"), QString(), {QStringLiteral("auth.password")});
  password_->setEchoMode(QLineEdit::Password);
  auto sync_auth = [this] {
    user_->setEnabled(auth_->isChecked());
    password_->setEnabled(auth_->isChecked());
  };
  connect(auth_, &QCheckBox::toggled, this, sync_auth);
  sync_auth();

  auto* desktop = new QGroupBox(tr("Desktop"), this);
  auto* desktop_layout = new QVBoxLayout(desktop);
  desktop_layout->addWidget(autostart_);
  desktop_layout->addWidget(autostart_error_);
  autostart_->setObjectName(QStringLiteral("autostart"));
  autostart_->setToolTip(AutostartEntry::path());
  autostart_->setChecked(AutostartEntry::installed());
  connect(autostart_, &QCheckBox::toggled, this, &SettingsPage::set_autostart);

  general_->setWordWrap(true);
  general_->setObjectName(QStringLiteral("settings-message"));
  save_->setObjectName(QStringLiteral("save"));
  save_->setDefault(true);
  connect(save_, &QPushButton::clicked, this, &SettingsPage::save);
  connect(reload_, &QPushButton::clicked, this, &SettingsPage::load);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(general_, 1);
  buttons->addWidget(reload_);
  buttons->addWidget(save_);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(upstream);
  layout->addWidget(local);
  layout->addWidget(desktop);
  layout->addLayout(buttons);
  layout->addStretch(1);

  auto sync_link = [this] {
    const bool reachable = model_.link() == DaemonLink::reachable;
    for (QWidget* w : {static_cast<QWidget*>(save_), static_cast<QWidget*>(reload_)}) w->setEnabled(reachable);
    if (!reachable && !loaded_once_)
      general_->setText(tr("The settings are read and written through the daemon; start it to change them."));
    if (reachable && isVisible() && !loaded_once_) load();
  };
  connect(&model_, &DaemonModel::link_changed, this, sync_link);
  sync_link();
}

QLineEdit* SettingsPage::add_line(QFormLayout* form, const QString& label, const QString& placeholder,
                                  const QStringList& fields, QWidget* trailing) {
  auto* box = new QWidget(this);
  auto* v = new QVBoxLayout(box);
  v->setContentsMargins(0, 0, 0, 0);
  v->setSpacing(2);
  auto* edit = new QLineEdit(box);
  edit->setPlaceholderText(placeholder);
  edit->setObjectName(fields.last());
  auto* err = error_label(box);
  err->setObjectName(fields.last() + QStringLiteral("-error"));
  auto* line = new QHBoxLayout;
  line->addWidget(edit, 1);
  if (trailing) line->addWidget(trailing);
  v->addLayout(line);
  v->addWidget(err);
  form->addRow(label, box);
  for (const auto& f : fields) error_labels_.insert(f, err);
  return edit;
}

void SettingsPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (!loaded_once_) load();
}

void SettingsPage::load() {
  if (model_.link() != DaemonLink::reachable) return;
  model_.api().get(QStringLiteral("/v1/config"), this, [this](const ApiResult& r) {
    if (!r.ok()) {
      general_->setText(tr("Cannot read the settings: %1").arg(r.error));
      return;
    }
    loaded_once_ = true;
    loaded_ = r.body.object();
    fill(loaded_);
    clear_errors();
    general_->setText(tr("Settings of the running daemon (%1).").arg(model_.target().config_path));
  });
}

void SettingsPage::fill(const QJsonObject& c) {
  const auto conc = c.value(QStringLiteral("concentrator")).toObject();
  concentrator_->setText(conc.value(QStringLiteral("address")).toString());
  token_->setText(conc.value(QStringLiteral("token")).toString());
  socks_->setText(c.value(QStringLiteral("socks")).toString());
  http_->setText(c.value(QStringLiteral("http")).toString());
  mixed_->setText(c.value(QStringLiteral("mixed")).toString());
  const auto auth = c.value(QStringLiteral("auth")).toObject();
  auth_->setChecked(!auth.isEmpty());
  user_->setText(auth.value(QStringLiteral("username")).toString());
  password_->setText(auth.value(QStringLiteral("password")).toString());
}

QJsonObject SettingsPage::collect() const {
  // Everything else (paths, limits, control...) goes back as the daemon sent it.
  QJsonObject c = loaded_;
  const QString address = concentrator_->text().trimmed();
  if (address.isEmpty() && token_->text().isEmpty())
    c.insert(QStringLiteral("concentrator"), QJsonValue::Null);
  else {
    // The user name, pinned fingerprint and TLS settings (from the access
    // key) are not on this page: keep them as the daemon sent them.
    QJsonObject conc = loaded_.value(QStringLiteral("concentrator")).toObject();
    conc.insert(QStringLiteral("address"), address);
    conc.insert(QStringLiteral("token"), token_->text());
    c.insert(QStringLiteral("concentrator"), conc);
  }
  c.insert(QStringLiteral("socks"), listener_value(socks_));
  c.insert(QStringLiteral("http"), listener_value(http_));
  c.insert(QStringLiteral("mixed"), listener_value(mixed_));
  if (auth_->isChecked())
    c.insert(QStringLiteral("auth"), QJsonObject{{QStringLiteral("username"), user_->text()},
                                                 {QStringLiteral("password"), password_->text()}});
  else
    c.insert(QStringLiteral("auth"), QJsonValue::Null);
  return c;
}

void SettingsPage::save() {
  if (model_.link() != DaemonLink::reachable) return;
  clear_errors();
  save_->setEnabled(false);
  general_->setText(tr("Saving…"));
  model_.api().put(QStringLiteral("/v1/config"), QJsonDocument(collect()), this, [this](const ApiResult& r) {
    save_->setEnabled(model_.link() == DaemonLink::reachable);
    if (!r.ok()) {
      show_error(r.error);
      return;
    }
    loaded_ = collect();
    const auto j = r.body.object();
    general_->setText(tr("Saved to %1. %2")
                          .arg(j.value(QStringLiteral("saved")).toString(),
                               j.value(QStringLiteral("restart_required")).toBool()
                                   ? tr("Restart the daemon (braid up) for it to take effect.")
                                   : QString()));
  });
}

void SettingsPage::clear_errors() {
  for (auto* l : error_labels_) {
    l->clear();
    l->hide();
  }
  general_->setStyleSheet(QString());
}

void SettingsPage::show_error(const QString& error) {
  const ConfigError e = split_config_error(error);
  bool placed = false;
  for (const auto& f : e.fields) {
    if (auto* l = error_labels_.value(f)) {
      l->setText(e.message);
      l->show();
      placed = true;
    }
  }
  general_->setStyleSheet(QStringLiteral("color: #cf2e2e;"));
  general_->setText(placed ? tr("Not saved: see the field marked in red.") : tr("Not saved: %1").arg(error));
}

QString SettingsPage::field_error(const QString& field) const {
  auto* l = error_labels_.value(field);
  return l && !l->isHidden() ? l->text() : QString();
}

QString SettingsPage::general_message() const { return general_->text(); }

void SettingsPage::set_autostart(bool on) {
  QString error;
  const bool ok = on ? AutostartEntry::install(&error) : AutostartEntry::remove(&error);
  autostart_error_->setVisible(!ok);
  autostart_error_->setText(error);
  if (!ok) {
    const QSignalBlocker block(autostart_);
    autostart_->setChecked(AutostartEntry::installed());
  }
}

}  // namespace braid::gui
