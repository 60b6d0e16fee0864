// The daemon's settings a user changes most: the concentrator, the local
// proxy ports, local authentication; and the tray app's own "start at login".
// Loaded with GET /v1/config and saved with PUT /v1/config, which validates
// exactly like the daemon's start does: a refusal names the field, and the
// message appears under that field.
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QWidget>

class QCheckBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;

namespace braid::gui {

class DaemonModel;

class SettingsPage : public QWidget {
  Q_OBJECT
 public:
  explicit SettingsPage(DaemonModel& model, QWidget* parent = nullptr);

  /// GET /v1/config into the form.
  void load();
  /// PUT /v1/config from the form.
  void save();

  /// The error shown under a field ("concentrator.token"), empty when none.
  QString field_error(const QString& field) const;
  QString general_message() const;

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  /// A line edit with its error label under it; @p fields are the config
  /// fields whose errors show there; @p trailing sits to the edit's right.
  QLineEdit* add_line(QFormLayout* form, const QString& label, const QString& placeholder, const QStringList& fields,
                      QWidget* trailing = nullptr);
  void clear_errors();
  void show_error(const QString& error);
  void fill(const QJsonObject& config);
  QJsonObject collect() const;
  void set_autostart(bool on);

  DaemonModel& model_;
  QJsonObject loaded_;
  bool loaded_once_ = false;
  QLineEdit* concentrator_;
  QLineEdit* token_;
  QLineEdit* socks_;
  QLineEdit* http_;
  QLineEdit* mixed_;
  QCheckBox* auth_;
  QLineEdit* user_;
  QLineEdit* password_;
  QCheckBox* autostart_;
  QLabel* autostart_error_;
  QLabel* general_;
  QPushButton* save_;
  QPushButton* reload_;
  QHash<QString, QLabel*> error_labels_;  ///< by config field
};

}  // namespace braid::gui
