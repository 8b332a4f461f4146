#include "export/trydialog.h"

#include "distillery/core/modeltools.h"
#include "distillery/core/utf8.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

namespace distillery::widgets {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(core::sanitizeUtf8(s));
}

} // namespace

TryDialog::TryDialog(const QString &modelPath, const QString &title, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(title);
    m_facts = new QLabel(this);
    m_facts->setWordWrap(true);
    m_facts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_prompt = new QLineEdit(this);
    m_tokens = new QSpinBox(this);
    m_tokens->setRange(1, 4096);
    m_tokens->setValue(32);
    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setRange(0.0, 10.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setValue(1.0);
    m_temperature->setToolTip(tr("0 picks the most probable token every time"));
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1 << 30);
    m_generate = new QPushButton(tr("Generate"), this);
    m_generate->setDefault(true);
    m_output = new QPlainTextEdit(this);
    m_output->setReadOnly(true);
    m_output->setPlaceholderText(tr("the prompt and its continuation"));
    m_score = new QLabel(this);

    auto *settings = new QHBoxLayout;
    settings->addWidget(new QLabel(tr("tokens"), this));
    settings->addWidget(m_tokens);
    settings->addWidget(new QLabel(tr("temperature"), this));
    settings->addWidget(m_temperature);
    settings->addWidget(new QLabel(tr("seed"), this));
    settings->addWidget(m_seed);
    settings->addStretch(1);
    settings->addWidget(m_generate);
    auto *form = new QFormLayout;
    form->addRow(tr("Model"), m_facts);
    form->addRow(tr("Prompt"), m_prompt);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(settings);
    layout->addWidget(m_output, 1);
    layout->addWidget(m_score);
    layout->addWidget(buttons);
    resize(640, 420);
    connect(buttons, &QDialogButtonBox::rejected, this, &TryDialog::reject);
    connect(m_generate, &QPushButton::clicked, this, &TryDialog::generate);
    connect(m_prompt, &QLineEdit::returnPressed, this, &TryDialog::generate);

    // Loaded on a thread of its own (a large model takes a while); a dialog closed before the
    // model arrives lets the thread finish on its own and drops the model.
    m_facts->setText(tr("loading %1…").arg(modelPath));
    m_generate->setEnabled(false);
    QPointer<TryDialog> self(this);
    const std::string path = modelPath.toStdString();
    QThread *loader = QThread::create([self, path] {
        auto opened = std::make_shared<core::Result<std::unique_ptr<core::LoadedModel>>>(core::LoadedModel::open(path));
        QMetaObject::invokeMethod(qApp, [self, opened] {
            if (self)
                self->onLoaded(std::move(*opened));
        });
    });
    connect(loader, &QThread::finished, loader, &QObject::deleteLater);
    m_loading = true;
    loader->start();
}

void TryDialog::onLoaded(core::Result<std::unique_ptr<core::LoadedModel>> opened)
{
    m_loading = false;
    if (!opened.ok()) {
        m_facts->setText(qs(opened.error().message));
        m_facts->setStyleSheet(QStringLiteral("color: #c62828;"));
        Q_EMIT loaded(false);
        return;
    }
    m_model = std::move(opened.value());
    const core::ModelFacts &f = m_model->facts();
    const QString tokens = f.tokenizer == "bytes"   ? tr("bytes (UTF-8 text)")
                           : f.tokenizer == "words" ? tr("the words t0 … t%1").arg(f.vocab - 1)
                           : f.tokenizer == "subword" ? tr("subword pieces (%1)").arg(qs(f.tokenizerSource))
                                                    : tr("not readable as text (%1)").arg(qs(f.tokenizerSource));
    m_facts->setText(tr("%1: %2\nvocabulary %3, %4 parameters, %5; tokens are %6")
                         .arg(qs(f.kind), qs(f.description))
                         .arg(f.vocab)
                         .arg(f.parameters)
                         .arg(qs(f.dtype), tokens));
    m_prompt->setText(f.tokenizer == "words" ? QStringLiteral("t1 t2 t3") : QStringLiteral("The "));
    if (f.maxLength > 0)
        m_tokens->setMaximum(int(f.maxLength));
    m_tokens->setValue(std::min(32, m_tokens->maximum()));
    m_generate->setEnabled(!f.tokenizer.empty());
    Q_EMIT loaded(true);
}

TryDialog::~TryDialog()
{
    if (m_thread)
        m_thread->wait();
}

QString TryDialog::factsText() const
{
    return m_facts->text();
}

QString TryDialog::outputText() const
{
    return m_output->toPlainText();
}

void TryDialog::generate()
{
    if (m_thread || !m_model)
        return;
    const std::string prompt = m_prompt->text().toStdString();
    core::GenerateOptions options;
    options.tokens = m_tokens->value();
    options.temperature = m_temperature->value();
    options.seed = std::uint64_t(m_seed->value());
    m_generate->setEnabled(false);
    m_score->setText(tr("generating…"));
    QPointer<TryDialog> self(this);
    core::LoadedModel *model = m_model.get(); // outlives the thread: the destructor waits for it
    m_thread = QThread::create([self, model, prompt, options] {
        auto text = model->generate(prompt, options);
        auto score = model->scoreText(prompt);
        const std::size_t n = score.ok() ? score.value().tokens.size() : 0;
        const QString scoreText = score.ok() ? tr("the prompt under the model: %1 %2 scored, NLL %3 nats/token, "
                                                  "perplexity %4")
                                                   .arg(n)
                                                   .arg(n == 1 ? tr("token") : tr("tokens"))
                                                   .arg(score.value().nll, 0, 'f', 4)
                                                   .arg(score.value().perplexity, 0, 'f', 2)
                                             : QString();
        const bool ok = text.ok();
        const QString out = ok ? qs(text.value()) : qs(text.error().message);
        QMetaObject::invokeMethod(qApp, [self, ok, out, scoreText] {
            if (self)
                self->onDone(ok, out, scoreText);
        });
    });
    m_thread->start();
}

void TryDialog::onDone(bool ok, const QString &text, const QString &score)
{
    m_thread->wait();
    m_thread->deleteLater();
    m_thread = nullptr;
    m_output->setPlainText(text);
    m_output->setStyleSheet(ok ? QString() : QStringLiteral("color: #c62828;"));
    m_score->setText(score);
    m_generate->setEnabled(true);
    Q_EMIT generated(ok, text);
}

} // namespace distillery::widgets
