#pragma once

// The document layer of the graph editor: a QObject over core's Graph that owns the undo stack.
// Every edit is a request that either succeeds whole (and pushes one undo entry) or changes
// nothing and says why. The scene mirrors the signals; it never edits the graph itself, so
// undo/redo and validation are testable without a view.

#include "distillery/core/graph.h"

#include <QList>
#include <QMap>
#include <QMetaType>
#include <QObject>
#include <QPointF>
#include <QString>

#include <optional>
#include <vector>

class QUndoStack;

namespace distillery::widgets {

class GraphDocument : public QObject
{
    Q_OBJECT
public:
    explicit GraphDocument(QObject *parent = nullptr);
    ~GraphDocument() override;

    const core::Graph &graph() const { return m_graph; }
    QUndoStack *undoStack() const { return m_undo; }

    // Problems of the current graph, recomputed after every change.
    const std::vector<core::ValidationIssue> &issues() const { return m_issues; }
    std::vector<core::ValidationIssue> issuesOf(core::NodeId node) const;
    bool isValid() const { return m_issues.empty(); }

    // --- Edits (each one undo entry; on failure nothing changes) -----------------------------
    core::Result<core::NodeId> requestAddNode(const std::string &kind, QPointF pos,
                                              const std::string &title = {});
    // Removes the nodes and every edge touching them, as one undo entry.
    core::Status requestRemoveNodes(const QList<core::NodeId> &nodes);
    core::Status requestConnect(const core::Edge &edge);
    core::Status requestDisconnect(const core::Edge &edge);
    // Removes nodes and edges together (Delete on a mixed selection), as one undo entry.
    core::Status requestRemove(const QList<core::NodeId> &nodes, const QList<core::Edge> &edges);
    core::Status requestSetParam(core::NodeId node, const std::string &name,
                                 const core::ParamValue &value);
    core::Status requestResetParam(core::NodeId node, const std::string &name);
    core::Status requestRename(core::NodeId node, const std::string &title);
    // Moves nodes. Calls with the same non-zero `gesture` (one mouse drag) merge into one undo
    // entry; gesture 0 is a move of its own.
    core::Status requestMoveNodes(const QMap<core::NodeId, QPointF> &positions, int gesture = 0);
    // Adds a template's (or a file's) nodes and edges beside what is there, with fresh ids.
    core::Result<QList<core::NodeId>> requestInsertGraph(const core::Graph &fragment,
                                                         QPointF offset, const QString &what);

    // --- Clipboard ----------------------------------------------------------------------------
    // The nodes and the edges between them, as distillery.graph JSON.
    std::string copyFragment(const QList<core::NodeId> &nodes) const;
    // Inserts a fragment from copyFragment() with fresh ids, shifted by `offset`.
    core::Result<QList<core::NodeId>> requestPaste(const std::string &json, QPointF offset);

    // --- Whole document -----------------------------------------------------------------------
    // Replaces the graph (new, open, template); clears the undo history.
    void reset(const core::Graph &graph, const QString &filePath = {});
    core::Status open(const QString &path);
    core::Status save(const QString &path);
    QString filePath() const { return m_filePath; }
    bool isModified() const;

    // Used by the undo commands only: the primitive changes, each with its signal.
    void applyInsertNode(const core::Node &node);
    void applyRemoveNode(core::NodeId id);
    bool applyConnect(const core::Edge &edge);
    void applyDisconnect(const core::Edge &edge);
    void applySetParam(core::NodeId id, const std::string &name,
                       const std::optional<core::ParamValue> &value);
    void applyRename(core::NodeId id, const std::string &title);
    void applyMove(core::NodeId id, QPointF pos);

Q_SIGNALS:
    void nodeAdded(distillery::core::NodeId id);
    void nodeRemoved(distillery::core::NodeId id);
    void nodeMoved(distillery::core::NodeId id, QPointF pos);
    // Parameters or title changed.
    void nodeChanged(distillery::core::NodeId id);
    void edgeAdded(const distillery::core::Edge &edge);
    void edgeRemoved(const distillery::core::Edge &edge);
    // The whole graph was replaced: views rebuild.
    void graphReset();
    void validationChanged();
    void modifiedChanged(bool modified);
    void filePathChanged(const QString &path);

private:
    void revalidate();

    core::Graph m_graph;
    QUndoStack *m_undo = nullptr;
    std::vector<core::ValidationIssue> m_issues;
    QString m_filePath;
};

} // namespace distillery::widgets

Q_DECLARE_METATYPE(distillery::core::Edge)
