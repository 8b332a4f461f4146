#pragma once

// Export student…: one run's trained student written for other tools (core/export.h). The
// user picks the format (Hugging Face folder or TorchScript), the weights' dtype, the
// checkpoint (the newest by default) and the folder; the export runs on a thread of its own with
// a progress bar and can be cancelled; the dialog says where it went and what it wrote.

#include <QDialog>

#include <atomic>
#include <memory>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QThread;

namespace distillery::widgets {

class ExportDialog : public QDialog
{
    Q_OBJECT
public:
    ExportDialog(const QString &storePath, qint64 runId, QWidget *parent = nullptr);
    ~ExportDialog() override;

    QComboBox *formatBox() const { return m_format; }
    QComboBox *dtypeBox() const { return m_dtype; }
    QComboBox *stepBox() const { return m_step; }
    QLineEdit *folderEdit() const { return m_folder; }
    QCheckBox *replaceBox() const { return m_replace; }
    QPushButton *exportButton() const { return m_export; }
    QProgressBar *progressBar() const { return m_progress; }
    // What the last export said: where it went and what it wrote, or why it failed.
    QString resultText() const;
    bool isExporting() const { return m_thread != nullptr; }

public Q_SLOTS:
    void startExport();
    void cancelExport();

Q_SIGNALS:
    void exportFinished(bool ok, const QString &message);

protected:
    void reject() override; // while exporting: cancel first

private:
    void readRun();
    void onProgress(double fraction, const QString &stage);
    void onFinished(bool ok, const QString &message);
    void updateButtons();

    QString m_storePath;
    qint64 m_runId = 0;
    QLabel *m_runLabel = nullptr;
    QComboBox *m_format = nullptr;
    QComboBox *m_dtype = nullptr;
    QComboBox *m_step = nullptr;
    QLineEdit *m_folder = nullptr;
    QCheckBox *m_replace = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_stage = nullptr;
    QLabel *m_result = nullptr;
    QPushButton *m_export = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QThread *m_thread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
};

} // namespace distillery::widgets
