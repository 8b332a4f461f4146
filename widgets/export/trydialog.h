#pragma once

// Try the student…: a trained model on its own (core/modeltools.h). Its facts (architecture,
// sizes, tokenizer), a prompt and its continuation at a temperature and seed, and the prompt's
// NLL under the model. Generation runs on a thread of its own.

#include "distillery/core/result.h"

#include <QDialog>

#include <memory>

class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QThread;

namespace distillery::core {
class LoadedModel;
}

namespace distillery::widgets {

class TryDialog : public QDialog
{
    Q_OBJECT
public:
    // `modelPath`: a built-in checkpoint (a run's student.pt), a TorchScript file, an export
    // folder or a Hugging Face folder. It is loaded on a thread; loaded() says when.
    TryDialog(const QString &modelPath, const QString &title, QWidget *parent = nullptr);
    ~TryDialog() override;

    QString factsText() const;
    QLineEdit *promptEdit() const { return m_prompt; }
    QSpinBox *tokensBox() const { return m_tokens; }
    QDoubleSpinBox *temperatureBox() const { return m_temperature; }
    QSpinBox *seedBox() const { return m_seed; }
    QPushButton *generateButton() const { return m_generate; }
    QString outputText() const;
    bool isBusy() const { return m_thread != nullptr || m_loading; }

public Q_SLOTS:
    void generate();

Q_SIGNALS:
    void loaded(bool ok);
    void generated(bool ok, const QString &text);

private:
    void onLoaded(core::Result<std::unique_ptr<core::LoadedModel>> opened);
    void onDone(bool ok, const QString &text, const QString &score);

    std::unique_ptr<core::LoadedModel> m_model; // loaded once; used by one generation at a time
    QLabel *m_facts = nullptr;
    QLineEdit *m_prompt = nullptr;
    QSpinBox *m_tokens = nullptr;
    QDoubleSpinBox *m_temperature = nullptr;
    QSpinBox *m_seed = nullptr;
    QPushButton *m_generate = nullptr;
    QPlainTextEdit *m_output = nullptr;
    QLabel *m_score = nullptr;
    bool m_loading = false;
    QThread *m_thread = nullptr;
};

} // namespace distillery::widgets
