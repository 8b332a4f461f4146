#include "plots/diagnosticview.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QPdfWriter>
#include <QSignalBlocker>
#include <QSlider>
#include <QTextStream>

#include <algorithm>

namespace distillery::widgets {

QString csvField(const QString &text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
        !text.contains(QLatin1Char('\n')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

DiagnosticView::DiagnosticView(QWidget *parent)
    : QWidget(parent)
{
}

DiagnosticView::~DiagnosticView() = default;

bool DiagnosticView::savePng(const QString &path)
{
    const QPixmap pixmap = grab();
    return !pixmap.isNull() && pixmap.save(path, "PNG");
}

bool DiagnosticView::savePdf(const QString &path)
{
    QPdfWriter writer(path);
    writer.setResolution(96);
    writer.setPageSize(QPageSize(QSizeF(width(), height()), QPageSize::Point));
    writer.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter painter;
    if (!painter.begin(&writer))
        return false;
    const double scale = std::min(writer.width() / double(std::max(1, width())),
                                  writer.height() / double(std::max(1, height())));
    painter.scale(scale, scale);
    render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
    return painter.end();
}

bool DiagnosticView::saveCsv(const QString &path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
        return false;
    QTextStream out(&file);
    out << csv();
    out.flush();
    return file.error() == QFile::NoError;
}

void DiagnosticView::addExportActions(QMenu *menu)
{
    const QString base = exportName();
    menu->addAction(tr("Save as PNG…"), this, [this, base] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save as PNG"), base + QStringLiteral(".png"), tr("PNG images (*.png)"));
        if (!path.isEmpty() && !savePng(path))
            QMessageBox::warning(this, tr("Save as PNG"), tr("Could not write %1.").arg(path));
    });
    menu->addAction(tr("Save as PDF…"), this, [this, base] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save as PDF"), base + QStringLiteral(".pdf"), tr("PDF documents (*.pdf)"));
        if (!path.isEmpty() && !savePdf(path))
            QMessageBox::warning(this, tr("Save as PDF"), tr("Could not write %1.").arg(path));
    });
    menu->addAction(tr("Save values as CSV…"), this, [this, base] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save values as CSV"), base + QStringLiteral(".csv"), tr("CSV files (*.csv)"));
        if (!path.isEmpty() && !saveCsv(path))
            QMessageBox::warning(this, tr("Save values as CSV"), tr("Could not write %1.").arg(path));
    });
    menu->addAction(tr("Copy values as CSV"), this,
                    [this] { QApplication::clipboard()->setText(csv()); });
}

void DiagnosticView::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu menu(this);
    addExportActions(&menu);
    menu.exec(event->globalPos());
}

void DiagnosticView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        applyTheme();
}

} // namespace distillery::widgets
