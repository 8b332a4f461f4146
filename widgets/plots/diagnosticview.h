#pragma once

// Base of the diagnostics views hosted by PlotPanel's Calibration, Alignment, Tokens and
// Diversity tabs. Unlike MetricPlot (scalar series over steps), these views show what one
// evaluation stored: reliability bins, per-token arrays, sample text. PlotPanel calls
// refresh() on every refresh tick, so a view updates while a run trains and works the same for
// finished runs. A view reads the store through a source function, asked each time it reads
// (on refresh, and when the user picks another step or probe): it never keeps a reader, which
// the panel may close and reopen between two events. What a view reads is loaded by plain
// functions beside it (calibrationdata.h, alignmentdata.h, tokendata.h, diversitydata.h), so
// the loading is tested without a window.
//
// Shared pieces: a step selector (slider + label, follows the newest step until the user
// moves it) and the export menu (PNG, PDF, CSV), which a right-click anywhere in the view
// opens (charts inside leave the context menu to the view). Charts take the palette's colours
// with styleChart() (charttheme.h).

#include "plots/charttheme.h"
#include "plots/stepselector.h"

#include "distillery/core/store.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <functional>
#include <vector>

class QMenu;

namespace distillery::widgets {

class DiagnosticView : public QWidget
{
    Q_OBJECT

public:
    // The store's read-only connection now, or null when it is not open.
    using StoreSource = std::function<const core::StoreReader *()>;

    explicit DiagnosticView(QWidget *parent = nullptr);
    ~DiagnosticView() override;

    void setStoreSource(StoreSource source) { m_source = std::move(source); }

    // The runs to show in selection order, with their display names; views that show one run
    // at a time show the first. Without a store (no source, or it gives null) the view keeps
    // what it shows. Called often: re-read only what changed (compare step lists).
    virtual void refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names) = 0;
    // Forgets everything shown (another store was opened).
    virtual void clear() = 0;
    // Whether the view shows data now.
    virtual bool hasData() const = 0;
    // The data shown now, as CSV with a header row.
    virtual QString csv() const = 0;
    // A file-name stem for exports ("calibration", "tokens", ...).
    virtual QString exportName() const = 0;

    // PNG/PDF of the view's main chart; the default renders the whole view.
    virtual bool savePng(const QString &path);
    virtual bool savePdf(const QString &path);
    bool saveCsv(const QString &path) const;
    // "Save as PNG…", "Save as PDF…", "Save CSV…", "Copy values as CSV".
    void addExportActions(QMenu *menu);

protected:
    // Asked anew at every read; valid until the view returns to the event loop.
    const core::StoreReader *store() const { return m_source ? m_source() : nullptr; }
    void contextMenuEvent(QContextMenuEvent *event) override;
    void changeEvent(QEvent *event) override;
    // Called when the palette or font changed.
    virtual void applyTheme() {}

private:
    StoreSource m_source;
};

// "a,b,c" quoted as CSV needs it.
QString csvField(const QString &text);

} // namespace distillery::widgets
