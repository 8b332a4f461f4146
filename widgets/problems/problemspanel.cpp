#include "problems/problemspanel.h"

#include "document/graphdocument.h"

#include <QApplication>
#include <QListWidget>
#include <QStyle>
#include <QVBoxLayout>

namespace distillery::widgets {

ProblemsPanel::ProblemsPanel(GraphDocument *document, QWidget *parent)
    : QWidget(parent), m_document(document)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_list = new QListWidget(this);
    m_list->setWordWrap(true);
    m_list->setAlternatingRowColors(true);
    layout->addWidget(m_list);
    connect(m_document, &GraphDocument::validationChanged, this, &ProblemsPanel::refresh);
    connect(m_list, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
        const auto node = item->data(Qt::UserRole).toInt();
        if (node != core::kInvalidNode)
            Q_EMIT nodeActivated(node);
    });
    refresh();
}

void ProblemsPanel::refresh()
{
    m_list->clear();
    const QIcon icon = style()->standardIcon(QStyle::SP_MessageBoxWarning);
    for (const auto &issue : m_document->issues()) {
        auto *item = new QListWidgetItem(icon, QStringLiteral("[%1] %2").arg(
                                                   QString::fromStdString(core::issueCodeName(issue.code)),
                                                   QString::fromStdString(issue.message)));
        item->setData(Qt::UserRole, issue.nodeId);
        m_list->addItem(item);
    }
    if (m_document->issues().empty()) {
        auto *item = new QListWidgetItem(style()->standardIcon(QStyle::SP_DialogApplyButton),
                                         tr("No problems: the graph is ready to run."));
        item->setData(Qt::UserRole, core::kInvalidNode);
        m_list->addItem(item);
    }
}

} // namespace distillery::widgets
