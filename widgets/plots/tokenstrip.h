#pragma once

// The tokens of a probe sequence as wrapped, rounded boxes, each filled with the colour of its
// value on a TokenScale (sequential, probability or diverging around 0). Hover asks a provider
// for the tooltip; a click selects a token.

#include <QColor>
#include <QStringList>
#include <QWidget>

#include <functional>
#include <vector>

namespace distillery::widgets {

// Range and colours of one quantity.
struct TokenScale
{
    enum class Kind { Sequential, Probability, Diverging };
    Kind kind = Kind::Sequential;
    double min = 0, max = 1;
    // Colour of a value over `base` (the view's background); NaN gives `base`.
    QColor color(double value, const QColor &base) const;
};

// The tokens of one probe laid out as wrapped boxes, each filled with its value's colour.
class TokenStrip : public QWidget
{
    Q_OBJECT

public:
    explicit TokenStrip(QWidget *parent = nullptr);

    // labels[j] is token j; values[j] its value (NaN: no colour); newline[j]: a line break
    // follows token j.
    void setTokens(const QStringList &labels, const std::vector<double> &values,
                   const std::vector<bool> &newline, const TokenScale &scale);
    // Token under a point (widget coordinates), -1 if none.
    int tokenAt(const QPoint &pos) const;
    QRect tokenRect(int token) const;
    int count() const { return int(m_labels.size()); }

    // Hover text of a token (HTML), asked for when the tooltip shows.
    void setToolTipProvider(std::function<QString(int)> provider) { m_toolTip = std::move(provider); }
    // The token drawn with a frame (-1: none).
    void setSelected(int token);
    int selected() const { return m_selected; }

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;

signals:
    void tokenClicked(int token);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    bool event(QEvent *event) override;

private:
    std::vector<QRect> layoutFor(int width) const;

    QStringList m_labels;
    std::vector<double> m_values;
    std::vector<bool> m_newline;
    TokenScale m_scale;
    std::vector<QRect> m_rects;
    std::function<QString(int)> m_toolTip;
    int m_selected = -1;
};

} // namespace distillery::widgets
