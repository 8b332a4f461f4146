#pragma once

// Token view: a probe sequence with every token coloured by a per-token diagnostic of the
// prediction that produced it (KL, gradient alignment, agreement, entropy, ...), at the step
// chosen with the step slider. Hovering a token shows every quantity there and the teacher's
// and the student's five most probable next tokens. The heatmap mode puts positions on x and
// evaluation steps on y, so a quantity's evolution over training is one picture.
//
// Position t of a probe predicts token t + 1: the first token is context only, token j is
// coloured by position j − 1.

#include "plots/diagnosticview.h"
#include "plots/tokendata.h"
#include "plots/tokenstrip.h"

#include <QColor>
#include <QStringList>

#include <functional>
#include <map>
#include <string>
#include <vector>

class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCustomPlot;
class QLabel;
class QScrollArea;
class QSpinBox;
class QStackedWidget;

namespace distillery::widgets {

class TokenView : public DiagnosticView
{
    Q_OBJECT

public:
    enum class Mode { Text, Heatmap };

    explicit TokenView(QWidget *parent = nullptr);
    ~TokenView() override;

    void refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names) override;
    void clear() override;
    bool hasData() const override;
    QString csv() const override;
    QString exportName() const override { return QStringLiteral("tokens"); }
    bool savePng(const QString &path) override;
    bool savePdf(const QString &path) override;

    // The quantities that can colour the tokens: store name and display name.
    static std::vector<std::pair<std::string, QString>> quantities();
    static TokenScale scaleFor(const std::string &quantity, const std::vector<double> &values);

    void setQuantity(const std::string &quantity);
    std::string quantity() const;
    void setSample(int sample);
    int sample() const;
    void setMode(Mode mode);
    Mode mode() const;
    core::RunId run() const { return m_run; }
    StepSelector *stepSelector() const { return m_steps; }
    TokenStrip *strip() const { return m_strip; }

    // What is shown: the token texts, the value colouring each token (NaN for the first
    // token and where nothing was stored), and the hover text of token j.
    QStringList tokenLabels() const { return m_probe.labels; }
    std::vector<double> tokenValues() const;
    QString tokenToolTip(int token) const;
    // The token whose details show below the text (clicked, or at first the one with the
    // largest value); -1 when none.
    int selectedToken() const { return m_strip->selected(); }
    void selectToken(int token);
    QString detailsText() const;
    // Heatmap rows (evaluation steps) and columns (positions); 0 × 0 when not built.
    QSize heatmapSize() const;

protected:
    void applyTheme() override;

private:
    void reloadStep();
    void reloadHeatmap();
    void rebuild();
    void loadTokens();
    QString tokenLabel(std::int64_t id, bool *newline) const;
    const std::vector<float> *array(const std::string &quantity) const;

    core::RunId m_run = 0;
    QList<core::RunId> m_runs;
    QHash<core::RunId, QString> m_names;
    std::int64_t m_loadedStep = -1;
    int m_loadedSample = -1;
    ProbeTokens m_probe; // the shown probe's tokens
    int m_sampleCount = 0;
    std::map<std::string, std::vector<float>> m_arrays; // every quantity at the loaded step
    // Heatmap: the current quantity at every stored step.
    std::string m_heatQuantity;
    int m_heatSample = -1;
    std::map<std::int64_t, std::vector<float>> m_heat;

    QComboBox *m_runCombo = nullptr;
    QSpinBox *m_sampleSpin = nullptr;
    QComboBox *m_quantityCombo = nullptr;
    QComboBox *m_modeCombo = nullptr;
    StepSelector *m_steps = nullptr;
    QLabel *m_legend = nullptr;
    QLabel *m_empty = nullptr;
    QLabel *m_details = nullptr;
    bool m_userSelected = false;
    QStackedWidget *m_stack = nullptr;
    QScrollArea *m_scroll = nullptr;
    TokenStrip *m_strip = nullptr;
    QCustomPlot *m_heatPlot = nullptr;
    QCPColorMap *m_colorMap = nullptr;
    QCPColorScale *m_colorScale = nullptr;
};

} // namespace distillery::widgets
