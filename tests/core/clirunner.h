#pragma once

// Runs distillery-cli as a user does, for tests: exit code, standard output and error.

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace distillery::core::testing {

struct CliResult
{
    int code = -1; // -1: crashed or timed out
    QString out;
    QString err;
};

// `extraEnv` is added to this process's environment; `workDir` empty keeps the current one.
inline CliResult cli(const QStringList &args, int timeoutMs = 120000,
                     const QStringList &extraEnv = {}, const QString &workDir = {})
{
    QProcess p;
    if (!extraEnv.isEmpty()) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const QString &pair : extraEnv)
            env.insert(pair.section('=', 0, 0), pair.section('=', 1));
        p.setProcessEnvironment(env);
    }
    if (!workDir.isEmpty())
        p.setWorkingDirectory(workDir);
    p.start(DISTILLERY_CLI, args);
    CliResult r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

inline QString describe(const CliResult &r)
{
    return QString("exit %1\nstdout:\n%2\nstderr:\n%3").arg(r.code).arg(r.out, r.err);
}

} // namespace distillery::core::testing
