#include "graph/quickaddpopup.h"

#include "document/graphdocument.h"
#include "graph/graphscene.h"
#include "graph/graphstyle.h"

#include <QKeyEvent>
#include <QLineEdit>
#include <QListWidget>
#include <QPainter>
#include <QPixmap>
#include <QVBoxLayout>

namespace distillery::widgets {

namespace {

QIcon swatch(const std::string &kind)
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(graphstyle::kindColor(kind));
    p.drawRoundedRect(QRectF(1, 1, 10, 10), 3, 3);
    return QIcon(pm);
}

} // namespace

QuickAddPopup::QuickAddPopup(GraphScene *scene, QPointF scenePos, QWidget *parent)
    : QFrame(parent, Qt::Popup)
    , m_scene(scene)
    , m_scenePos(scenePos)
    , m_filter(new QLineEdit(this))
    , m_list(new QListWidget(this))
{
    setFrameShape(QFrame::StyledPanel);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    m_filter->setPlaceholderText(tr("Add node\u2026"));
    m_filter->setClearButtonEnabled(true);
    layout->addWidget(m_filter);
    layout->addWidget(m_list);
    m_list->setUniformItemSizes(true);
    const core::Graph &graph = m_scene->document()->graph();
    for (const core::NodeKindSpec &spec : core::nodeKinds()) {
        auto *item =
            new QListWidgetItem(swatch(spec.kind), QString::fromStdString(spec.kind), m_list);
        item->setData(Qt::UserRole, QString::fromStdString(spec.kind));
        item->setData(Qt::UserRole + 1,
                      QString::fromStdString(spec.category + " " + spec.description));
        item->setToolTip(QString::fromStdString(spec.description));
        if (spec.singleton && !graph.nodesOfKind(spec.kind).empty()) {
            item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
            item->setText(tr("%1  (already in the graph)").arg(QString::fromStdString(spec.kind)));
        }
    }
    resize(280, 260);
    connect(m_filter, &QLineEdit::textChanged, this, &QuickAddPopup::setFilter);
    connect(m_filter, &QLineEdit::returnPressed, this, &QuickAddPopup::accept);
    connect(m_list, &QListWidget::itemActivated, this, [this] { accept(); });
    m_filter->installEventFilter(this);
    setFilter({});
}

QStringList QuickAddPopup::visibleKinds() const
{
    QStringList kinds;
    for (int i = 0; i < m_list->count(); ++i)
        if (!m_list->item(i)->isHidden())
            kinds.append(m_list->item(i)->data(Qt::UserRole).toString());
    return kinds;
}

void QuickAddPopup::setFilter(const QString &text)
{
    const QString needle = text.trimmed();
    QListWidgetItem *first = nullptr;
    for (int i = 0; i < m_list->count(); ++i) {
        QListWidgetItem *item = m_list->item(i);
        const bool match =
            needle.isEmpty() ||
            item->data(Qt::UserRole).toString().contains(needle, Qt::CaseInsensitive) ||
            item->data(Qt::UserRole + 1).toString().contains(needle, Qt::CaseInsensitive);
        item->setHidden(!match);
        if (match && !first && (item->flags() & Qt::ItemIsEnabled))
            first = item;
    }
    m_list->setCurrentItem(first);
}

bool QuickAddPopup::accept()
{
    QListWidgetItem *item = m_list->currentItem();
    if (!item || item->isHidden() || !(item->flags() & Qt::ItemIsEnabled))
        return false;
    auto id = m_scene->addNodeAt(item->data(Qt::UserRole).toString().toStdString(), m_scenePos);
    if (!id.ok())
        return false;
    Q_EMIT nodeAdded(id.value());
    close();
    return true;
}

bool QuickAddPopup::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_filter && event->type() == QEvent::KeyPress) {
        auto *key = static_cast<QKeyEvent *>(event);
        if (key->key() == Qt::Key_Down || key->key() == Qt::Key_Up) {
            const int step = key->key() == Qt::Key_Down ? 1 : -1;
            int row = m_list->currentRow();
            for (int i = 0; i < m_list->count(); ++i) {
                row = (row + step + m_list->count()) % m_list->count();
                QListWidgetItem *item = m_list->item(row);
                if (!item->isHidden() && (item->flags() & Qt::ItemIsEnabled)) {
                    m_list->setCurrentRow(row);
                    break;
                }
            }
            return true;
        }
        if (key->key() == Qt::Key_Escape) {
            close();
            return true;
        }
    }
    return QFrame::eventFilter(watched, event);
}

} // namespace distillery::widgets
