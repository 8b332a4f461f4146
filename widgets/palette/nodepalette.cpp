#include "palette/nodepalette.h"

#include "distillery/core/graph.h"

#include <QDrag>
#include <QHeaderView>
#include <QLineEdit>
#include <QMimeData>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <map>

namespace distillery::widgets {

namespace {

constexpr int kKindRole = Qt::UserRole + 1;     // node kind name
constexpr int kTemplateRole = Qt::UserRole + 2; // template name

// A tree whose node-kind rows can be dragged onto the canvas.
class PaletteTree : public QTreeWidget
{
public:
    using QTreeWidget::QTreeWidget;

protected:
    QMimeData *mimeData(const QList<QTreeWidgetItem *> &items) const override
    {
        if (items.isEmpty() || items.front()->data(0, kKindRole).toString().isEmpty())
            return nullptr;
        auto *data = new QMimeData;
        data->setData(QString::fromLatin1(kNodeKindMime),
                      items.front()->data(0, kKindRole).toString().toUtf8());
        return data;
    }
    QStringList mimeTypes() const override { return {QString::fromLatin1(kNodeKindMime)}; }
};

} // namespace

NodePalette::NodePalette(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search nodes and templates"));
    m_search->setClearButtonEnabled(true);
    m_tree = new PaletteTree(this);
    m_tree->setHeaderHidden(true);
    m_tree->setDragEnabled(true);
    m_tree->setDragDropMode(QAbstractItemView::DragOnly);
    m_tree->setRootIsDecorated(true);
    layout->addWidget(m_search);
    layout->addWidget(m_tree, 1);

    std::map<std::string, QTreeWidgetItem *> categories;
    for (const auto &kind : core::nodeKinds()) {
        QTreeWidgetItem *&category = categories[kind.category];
        if (!category) {
            category = new QTreeWidgetItem(m_tree, {QString::fromStdString(kind.category)});
            category->setFlags(Qt::ItemIsEnabled);
            QFont f = category->font(0);
            f.setBold(true);
            category->setFont(0, f);
        }
        auto *item = new QTreeWidgetItem(category, {QString::fromStdString(kind.kind)});
        item->setData(0, kKindRole, QString::fromStdString(kind.kind));
        item->setToolTip(0, QString::fromStdString(kind.description)
                                + (kind.singleton ? tr("\n(one per graph)") : QString()));
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
    }
    auto *templates = new QTreeWidgetItem(m_tree, {tr("Templates")});
    templates->setFlags(Qt::ItemIsEnabled);
    QFont f = templates->font(0);
    f.setBold(true);
    templates->setFont(0, f);
    for (const auto &name : core::templateNames()) {
        auto *item = new QTreeWidgetItem(templates, {QString::fromStdString(name)});
        item->setData(0, kTemplateRole, QString::fromStdString(name));
        if (auto g = core::loadTemplate(name); g.ok()) {
            auto d = g.value().meta.find("description");
            if (d != g.value().meta.end())
                item->setToolTip(0, QString::fromStdString(d->second));
        }
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    }
    m_tree->expandAll();

    connect(m_search, &QLineEdit::textChanged, this, &NodePalette::setFilter);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem *item) {
        if (const QString kind = item->data(0, kKindRole).toString(); !kind.isEmpty())
            Q_EMIT addNodeRequested(kind);
        else if (const QString t = item->data(0, kTemplateRole).toString(); !t.isEmpty())
            Q_EMIT templateRequested(t);
    });
}

void NodePalette::setFilter(const QString &text)
{
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *category = m_tree->topLevelItem(i);
        int shown = 0;
        for (int j = 0; j < category->childCount(); ++j) {
            QTreeWidgetItem *item = category->child(j);
            const bool match = text.isEmpty() || item->text(0).contains(text, Qt::CaseInsensitive)
                               || item->toolTip(0).contains(text, Qt::CaseInsensitive);
            item->setHidden(!match);
            shown += match ? 1 : 0;
        }
        category->setHidden(shown == 0);
    }
}

} // namespace distillery::widgets
