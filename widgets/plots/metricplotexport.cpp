// MetricPlot's exports: CSV of the stored values, PNG and PDF, and the context menu that offers
// them.

#include "plots/metricplot.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>

namespace distillery::widgets {

QString MetricPlot::valuesCsv() const
{
    QString csv = QStringLiteral("run,key,step,wall_time,value\n");
    for (const auto &s : m_series) {
        QString key = s->key;
        if (key.contains(QLatin1Char(',')) || key.contains(QLatin1Char('"')))
            key = QLatin1Char('"') + key.replace(QLatin1Char('"'), QStringLiteral("\"\"")) +
                  QLatin1Char('"');
        for (std::size_t i = 0; i < s->data.size(); ++i) {
            csv += QStringLiteral("%1,%2,%3,%4,%5\n")
                       .arg(s->run)
                       .arg(key)
                       .arg(s->data.steps[i])
                       .arg(QString::number(s->data.wallTimes[i], 'f', 3))
                       .arg(QString::number(s->data.values[i], 'g', 17));
        }
    }
    return csv;
}

void MetricPlot::copyValuesCsv() const
{
    QApplication::clipboard()->setText(valuesCsv());
}

bool MetricPlot::savePng(const QString &path, int width, int height)
{
    m_tracer->setVisible(false);
    return m_plot->savePng(path, width, height, 2.0);
}

bool MetricPlot::savePdf(const QString &path, int width, int height)
{
    m_tracer->setVisible(false);
    return m_plot->savePdf(path, width, height);
}

void MetricPlot::onContextMenu(const QPoint &pos)
{
    QMenu menu(this);
    const QString base = m_title.isEmpty() ? QStringLiteral("plot") : m_title;
    menu.addAction(tr("Save as PNG…"), this, [this, base] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save plot as PNG"), base + QStringLiteral(".png"), tr("PNG images (*.png)"));
        if (!path.isEmpty() && !savePng(path))
            QMessageBox::warning(this, tr("Save as PNG"), tr("Could not write %1.").arg(path));
    });
    menu.addAction(tr("Save as PDF…"), this, [this, base] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save plot as PDF"),
                                                          base + QStringLiteral(".pdf"),
                                                          tr("PDF documents (*.pdf)"));
        if (!path.isEmpty() && !savePdf(path))
            QMessageBox::warning(this, tr("Save as PDF"), tr("Could not write %1.").arg(path));
    });
    menu.addAction(tr("Copy values as CSV"), this, [this] { copyValuesCsv(); });
    menu.addSeparator();
    menu.addAction(tr("Reset zoom"), this, [this] { resetZoom(); });
    menu.exec(m_plot->mapToGlobal(pos));
}

} // namespace distillery::widgets
