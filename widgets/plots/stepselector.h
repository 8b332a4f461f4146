#pragma once

#include <QWidget>

#include <cstdint>
#include <vector>

class QLabel;
class QSlider;

namespace distillery::widgets {

// A slider over the steps that have data, with a label "step N (i/n)". Follows the newest step
// while the slider is at its right end; a user who moves it back keeps their step.
class StepSelector : public QWidget
{
    Q_OBJECT

public:
    explicit StepSelector(QWidget *parent = nullptr);

    // Returns true when the selected step changed.
    bool setSteps(const std::vector<std::int64_t> &steps);
    const std::vector<std::int64_t> &steps() const { return m_steps; }
    // -1 when there are no steps.
    std::int64_t currentStep() const;
    void setCurrentStep(std::int64_t step); // nearest stored step
    int currentIndex() const;
    QSlider *slider() const { return m_slider; }

signals:
    void stepChanged(std::int64_t step);

private:
    void updateLabel();

    std::vector<std::int64_t> m_steps;
    QSlider *m_slider = nullptr;
    QLabel *m_label = nullptr;
};

} // namespace distillery::widgets
