#include "export/exportdialog.h"

#include "distillery/core/export.h"
#include "distillery/core/files.h"
#include "distillery/core/store.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QApplication>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace distillery::widgets {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

ExportDialog::ExportDialog(const QString &storePath, qint64 runId, QWidget *parent)
    : QDialog(parent)
    , m_storePath(storePath)
    , m_runId(runId)
{
    setWindowTitle(tr("Export student"));
    m_runLabel = new QLabel(this);
    m_runLabel->setWordWrap(true);

    m_format = new QComboBox(this);
    m_format->addItem(tr("Hugging Face folder (GPT2LMHeadModel, safetensors, tokenizer, model card)"),
                      QStringLiteral("hf"));
    m_format->addItem(tr("TorchScript (model.pt: forward(tokens) → logits)"), QStringLiteral("torchscript"));
    m_format->addItem(tr("ONNX (model.onnx, opset 17, float32)"), QStringLiteral("onnx"));
    m_dtype = new QComboBox(this);
    m_dtype->addItem(tr("float32"), QStringLiteral("f32"));
    m_dtype->addItem(tr("float16 (half the size)"), QStringLiteral("f16"));
    m_dtype->addItem(tr("bfloat16 (half the size)"), QStringLiteral("bf16"));
    m_step = new QComboBox(this);
    m_folder = new QLineEdit(this);
    m_folder->setPlaceholderText(tr("folder to create"));
    auto *browse = new QToolButton(this);
    browse->setText(tr("Browse…"));
    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browse);
    m_replace = new QCheckBox(tr("Replace the folder if it is not empty"), this);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 100);
    m_progress->setValue(0);
    m_stage = new QLabel(this);
    m_result = new QLabel(this);
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_export = m_buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    m_export->setDefault(true);

    auto *form = new QFormLayout;
    form->addRow(tr("Run"), m_runLabel);
    form->addRow(tr("Format"), m_format);
    form->addRow(tr("Weights"), m_dtype);
    form->addRow(tr("Checkpoint"), m_step);
    form->addRow(tr("Folder"), folderRow);
    form->addRow(QString(), m_replace);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_progress);
    layout->addWidget(m_stage);
    layout->addWidget(m_result);
    layout->addStretch(1);
    layout->addWidget(m_buttons);
    resize(620, 360);

    connect(browse, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Export into"),
                                                              QFileInfo(m_folder->text()).absolutePath());
        if (!dir.isEmpty())
            m_folder->setText(QDir(dir).filePath(QFileInfo(m_folder->text()).fileName()));
    });
    connect(m_export, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &ExportDialog::reject);
    connect(m_folder, &QLineEdit::textChanged, this, &ExportDialog::updateButtons);
    connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
        // The default folder follows the format.
        const QString name = QFileInfo(m_folder->text()).fileName();
        // ONNX is written in float32 only.
        if (m_format->currentData().toString() == QStringLiteral("onnx"))
            m_dtype->setCurrentIndex(0);
        updateButtons();
        if (name.endsWith(QStringLiteral("-hf")) || name.endsWith(QStringLiteral("-torchscript"))
            || name.endsWith(QStringLiteral("-onnx"))) {
            const QString base = name.left(name.lastIndexOf(QLatin1Char('-')));
            m_folder->setText(QFileInfo(m_folder->text()).dir().filePath(
                base + QLatin1Char('-') + m_format->currentData().toString()));
        }
    });
    readRun();
    updateButtons();
}

ExportDialog::~ExportDialog()
{
    if (m_thread) {
        m_cancel->store(true);
        m_thread->wait();
    }
}

void ExportDialog::readRun()
{
    auto reader = core::StoreReader::open(m_storePath.toStdString());
    if (!reader.ok()) {
        m_runLabel->setText(qs(reader.error().message));
        return;
    }
    auto info = reader.value()->run(m_runId);
    if (!info.ok()) {
        m_runLabel->setText(qs(info.error().message));
        return;
    }
    const core::RunInfo &run = info.value();
    m_runLabel->setText(tr("%1 '%2' (%3, %4 of %5 steps)")
                            .arg(run.id)
                            .arg(qs(run.name), qs(core::runStatusName(run.status)))
                            .arg(run.lastStep)
                            .arg(run.stepsTotal));
    std::vector<std::int64_t> steps;
    if (auto cps = reader.value()->checkpoints(m_runId); cps.ok())
        for (const auto &c : cps.value())
            if (c.kind == "student" || c.kind == "model")
                steps.push_back(c.step);
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
        m_step->addItem(it == steps.rbegin() ? tr("step %1 (the newest)").arg(*it) : tr("step %1").arg(*it),
                        qlonglong(*it));
    if (steps.empty()) {
        m_step->addItem(tr("none: the run saved no student checkpoint"), qlonglong(-1));
        m_step->setEnabled(false);
    }
    const QString folder = QFileInfo(m_storePath).absolutePath();
    QString name = qs(run.name).trimmed();
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("-"));
    m_folder->setText(QDir(folder).filePath(
        QStringLiteral("%1-run%2-hf").arg(name.isEmpty() ? QStringLiteral("student") : name).arg(run.id)));
}

void ExportDialog::updateButtons()
{
    const bool busy = m_thread != nullptr;
    const bool haveCheckpoint = m_step->count() > 0 && m_step->itemData(0).toLongLong() >= 0;
    m_export->setEnabled(!busy && haveCheckpoint && !m_folder->text().trimmed().isEmpty());
    for (QWidget *w : std::initializer_list<QWidget *>{m_format, m_dtype, m_folder, m_replace})
        w->setEnabled(!busy);
    if (m_format->currentData().toString() == QStringLiteral("onnx"))
        m_dtype->setEnabled(false);
    m_step->setEnabled(!busy && haveCheckpoint);
    m_buttons->button(QDialogButtonBox::Close)->setText(busy ? tr("Cancel") : tr("Close"));
}

QString ExportDialog::resultText() const
{
    return m_result->text();
}

void ExportDialog::startExport()
{
    if (m_thread)
        return;
    core::ExportRequest request;
    request.storePath = m_storePath.toStdString();
    request.run = m_runId;
    request.format = m_format->currentData().toString().toStdString();
    request.dtype = m_dtype->currentData().toString().toStdString();
    request.step = m_step->currentData().toLongLong();
    request.out = m_folder->text().trimmed().toStdString();
    request.force = m_replace->isChecked();
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_result->clear();
    m_progress->setValue(0);
    QPointer<ExportDialog> self(this);
    auto cancel = m_cancel;
    m_thread = QThread::create([self, request, cancel] {
        auto progress = [self](double fraction, const std::string &stage) {
            QMetaObject::invokeMethod(qApp, [self, fraction, stage = qs(stage)] {
                if (self)
                    self->onProgress(fraction, stage);
            });
        };
        auto result = core::exportStudent(request, progress, cancel.get());
        QString message;
        if (result.ok()) {
            const core::ExportResult &r = result.value();
            QStringList files;
            for (const auto &f : r.files)
                files << qs(f);
            message = tr("Step %1 written to %2 (%3): %4")
                          .arg(r.step)
                          .arg(qs(r.path), qs(core::formatBytes(std::uint64_t(r.bytes))), files.join(QStringLiteral(", ")));
        } else if (result.error().code == "export.out_exists") {
            message = tr("%1 exists and is not empty: choose another folder, or tick \"Replace the "
                         "folder if it is not empty\"")
                          .arg(qs(request.out));
        } else {
            message = qs(result.error().message);
        }
        const bool ok = result.ok();
        QMetaObject::invokeMethod(qApp, [self, ok, message] {
            if (self)
                self->onFinished(ok, message);
        });
    });
    m_thread->start();
    m_stage->setText(tr("starting…"));
    updateButtons();
}

void ExportDialog::cancelExport()
{
    if (m_cancel)
        m_cancel->store(true);
}

void ExportDialog::reject()
{
    if (m_thread) {
        cancelExport();
        m_stage->setText(tr("cancelling…"));
        return;
    }
    QDialog::reject();
}

void ExportDialog::onProgress(double fraction, const QString &stage)
{
    m_progress->setValue(int(fraction * 100 + 0.5));
    m_stage->setText(stage);
}

void ExportDialog::onFinished(bool ok, const QString &message)
{
    if (m_thread) {
        m_thread->wait();
        m_thread->deleteLater();
        m_thread = nullptr;
    }
    m_progress->setValue(ok ? 100 : 0);
    m_stage->setText(ok ? tr("done") : tr("not exported"));
    m_result->setStyleSheet(ok ? QString() : QStringLiteral("color: #c62828;"));
    m_result->setText(message);
    updateButtons();
    Q_EMIT exportFinished(ok, message);
}

} // namespace distillery::widgets
