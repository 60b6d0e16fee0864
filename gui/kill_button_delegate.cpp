#include "gui/kill_button_delegate.hpp"

#include <QApplication>
#include <QMouseEvent>
#include <QPainter>
#include <QStyleOptionButton>

namespace braid::gui {

namespace {
QRect button_rect(const QStyleOptionViewItem& option) { return option.rect.adjusted(4, 2, -4, -2); }
}  // namespace

void KillButtonDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QStyleOptionButton button;
  button.rect = button_rect(option);
  button.text = index.data(Qt::DisplayRole).toString();
  button.state = QStyle::State_Enabled | (pressed_ == index ? QStyle::State_Sunken : QStyle::State_Raised);
  const QWidget* widget = option.widget;
  QStyle* style = widget ? widget->style() : QApplication::style();
  style->drawControl(QStyle::CE_PushButton, &button, painter, widget);
}

QSize KillButtonDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const {
  const QSize text = option.fontMetrics.size(Qt::TextSingleLine, index.data(Qt::DisplayRole).toString());
  return {text.width() + 32, text.height() + 12};
}

bool KillButtonDelegate::editorEvent(QEvent* event, QAbstractItemModel*, const QStyleOptionViewItem& option,
                                     const QModelIndex& index) {
  if (event->type() != QEvent::MouseButtonPress && event->type() != QEvent::MouseButtonRelease) return false;
  auto* mouse = static_cast<QMouseEvent*>(event);
  const bool inside = button_rect(option).contains(mouse->position().toPoint());
  if (event->type() == QEvent::MouseButtonPress) {
    pressed_ = inside ? QPersistentModelIndex(index) : QPersistentModelIndex();
    return inside;
  }
  const bool fire = inside && pressed_ == index;
  pressed_ = QPersistentModelIndex();
  if (fire) emit clicked(index);
  return fire;
}

}  // namespace braid::gui
