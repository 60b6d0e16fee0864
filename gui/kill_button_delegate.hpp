// Paints a push button in a table cell and reports a click on it, so each
// connection row has its own "Close" button without a widget per row.
#pragma once

#include <QStyledItemDelegate>

namespace braid::gui {

class KillButtonDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  bool editorEvent(QEvent* event, QAbstractItemModel* model, const QStyleOptionViewItem& option,
                   const QModelIndex& index) override;

 signals:
  void clicked(const QModelIndex& index);

 private:
  QPersistentModelIndex pressed_;
};

}  // namespace braid::gui
