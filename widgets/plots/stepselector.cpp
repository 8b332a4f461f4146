#include "plots/stepselector.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>

#include <algorithm>

namespace distillery::widgets {

StepSelector::StepSelector(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    layout->addWidget(new QLabel(tr("Step"), this));
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setRange(0, 0);
    m_slider->setEnabled(false);
    m_slider->setToolTip(tr("The evaluation to show; at the right end it follows the newest one"));
    layout->addWidget(m_slider, 1);
    m_label = new QLabel(this);
    m_label->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("step 000000 (000/000)")));
    layout->addWidget(m_label);
    connect(m_slider, &QSlider::valueChanged, this, [this] {
        updateLabel();
        emit stepChanged(currentStep());
    });
    updateLabel();
}

bool StepSelector::setSteps(const std::vector<std::int64_t> &steps)
{
    if (steps == m_steps)
        return false;
    const std::int64_t before = currentStep();
    const bool atEnd = m_steps.empty() || m_slider->value() == m_slider->maximum();
    m_steps = steps;
    {
        const QSignalBlocker block(m_slider);
        m_slider->setRange(0, std::max<int>(0, int(m_steps.size()) - 1));
        m_slider->setEnabled(m_steps.size() > 1);
        if (atEnd || m_steps.empty()) {
            m_slider->setValue(m_slider->maximum());
        } else {
            auto it = std::lower_bound(m_steps.begin(), m_steps.end(), before);
            if (it == m_steps.end())
                it = m_steps.end() - 1;
            m_slider->setValue(int(it - m_steps.begin()));
        }
    }
    updateLabel();
    return currentStep() != before;
}

std::int64_t StepSelector::currentStep() const
{
    const int i = m_slider->value();
    return i >= 0 && i < int(m_steps.size()) ? m_steps[std::size_t(i)] : -1;
}

int StepSelector::currentIndex() const
{
    return m_steps.empty() ? -1 : m_slider->value();
}

void StepSelector::setCurrentStep(std::int64_t step)
{
    if (m_steps.empty())
        return;
    auto it = std::lower_bound(m_steps.begin(), m_steps.end(), step);
    if (it == m_steps.end())
        it = m_steps.end() - 1;
    m_slider->setValue(int(it - m_steps.begin())); // emits stepChanged when it moves
}

void StepSelector::updateLabel()
{
    if (m_steps.empty()) {
        m_label->setText(tr("no data yet"));
        return;
    }
    // The stored step, as on the plots' x axes.
    m_label->setText(tr("step %1 (%2/%3)")
                         .arg(currentStep())
                         .arg(m_slider->value() + 1)
                         .arg(m_steps.size()));
}

} // namespace distillery::widgets
