#include "ensure.h"
#include "distillery/core/graph.h"

#include <QtTest>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <functional>

#include <sys/stat.h>
#include <unistd.h>

using namespace distillery::core;

using Mutation = std::function<void(Graph &)>;
Q_DECLARE_METATYPE(Mutation)
Q_DECLARE_METATYPE(distillery::core::ParamValue)

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

QString issuesText(const std::vector<ValidationIssue> &issues)
{
    QStringList lines;
    for (const auto &issue : issues)
        lines << q(issueCodeName(issue.code) + ": " + issue.message);
    return lines.join('\n');
}

// The ids of the graph below, in the order addNode gives them.
enum FixtureId { Data = 1, Teach, Stud, Ce, Kd, Sum, Opt, Run };

// A valid experiment built through the public API (independent of the template files):
// Dataset -> Teacher, Student; CE and forward-KL losses -> Combine -> Optimizer; Settings.
Graph fixture()
{
    Graph g;
    g.addNode("Dataset", 0, 0, "data");
    g.addNode("Teacher", 280, 0, "teacher");
    g.addNode("Student", 280, 160, "student");
    g.addNode("Loss", 560, 0, "ce");
    g.addNode("Loss", 560, 160, "kd");
    g.addNode("Combine", 840, 160, "sum");
    g.addNode("Optimizer", 1080, 160);
    g.addNode("Settings", 0, 400);
    ENSURE(g.setParam(Ce, "kind", std::string("cross-entropy")));
    ENSURE(g.setParam(Teach, "layers", std::int64_t(2)));
    const std::vector<Edge> edges = {
        {Data, "tokens", Teach, "tokens"}, {Data, "tokens", Stud, "tokens"},
        {Stud, "logits", Ce, "student"},   {Data, "labels", Ce, "labels"},
        {Stud, "logits", Kd, "student"},   {Teach, "logits", Kd, "teacher"},
        {Ce, "loss", Sum, "terms"},        {Kd, "loss", Sum, "terms"},
        {Sum, "loss", Opt, "loss"},
    };
    for (const auto &e : edges)
        if (const auto status = g.connect(e); !status)
            qFatal("fixture: %s", status.error().message.c_str());
    return g;
}

// Rewrites a graph through its JSON text, for states that the API refuses to build but a file
// can hold (bad ports, duplicate edges, a second singleton, wrongly typed values).
void editJson(Graph &g, const std::function<void(QJsonObject &)> &edit)
{
    QJsonObject root = QJsonDocument::fromJson(QByteArray::fromStdString(graphToJson(g))).object();
    edit(root);
    auto loaded = graphFromJson(QJsonDocument(root).toJson().toStdString());
    if (!loaded)
        qFatal("editJson: %s", loaded.error().message.c_str());
    g = loaded.value();
}

void addRawEdge(Graph &g, const Edge &e)
{
    editJson(g, [&](QJsonObject &root) {
        QJsonArray edges = root["edges"].toArray();
        edges.append(QJsonObject{{"from", e.fromNode},
                                 {"from_port", q(e.fromPort)},
                                 {"to", e.toNode},
                                 {"to_port", q(e.toPort)}});
        root["edges"] = edges;
    });
}

void setRawParam(Graph &g, NodeId id, const QString &name, const QJsonValue &value)
{
    editJson(g, [&](QJsonObject &root) {
        QJsonArray nodes = root["nodes"].toArray();
        for (int i = 0; i < nodes.size(); ++i) {
            QJsonObject node = nodes[i].toObject();
            if (node["id"].toInt() != id)
                continue;
            QJsonObject params = node["params"].toObject();
            params[name] = value;
            node["params"] = params;
            nodes[i] = node;
        }
        root["nodes"] = nodes;
    });
}

// A minimal document around the given nodes and edges arrays, for malformed-file cases.
QByteArray doc(const char *nodes, const char *edges = "[]")
{
    return QByteArray(R"({"format": "distillery.graph", "version": 1, "nodes": )") + nodes +
           R"(, "edges": )" + edges + "}";
}

} // namespace

class tst_Graph : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fixtureIsValid()
    {
        const auto issues = validateGraph(fixture());
        QVERIFY2(issues.empty(), qPrintable(issuesText(issues)));
    }

    void addAndRemoveNodes()
    {
        Graph g = fixture();
        const std::string before = graphToJson(g);
        QCOMPARE(g.addNode("Teachr"), kInvalidNode);
        QCOMPARE(g.addNode("Settings"), kInvalidNode);             // singleton
        QCOMPARE(g.addNode("Student"), kInvalidNode);              // singleton
        QVERIFY(!g.insertNode(Node{Kd, "Combine", "", {}, 0, 0})); // id taken
        QCOMPARE(q(g.insertNode(Node{42, "Teachr", "", {}, 0, 0}).error().code), "graph.unknown_kind");
        const auto second = g.insertNode(Node{42, "Settings", "", {}, 0, 0});
        QCOMPARE(q(second.error().code), "graph.singleton");
        QVERIFY2(q(second.error().message).contains("node 8 (Settings)"),
                 second.error().message.c_str());
        QCOMPARE(q(graphToJson(g)), q(before));

        QCOMPARE(g.addNode("Teacher", 5, 6, "t2"), 9);
        QVERIFY(g.insertNode(Node{20, "Projection", "p", {}, 1, 2}));
        QCOMPARE(g.nextId(), 21);
        QCOMPARE(g.addNode("Combine"), 21);
        QCOMPARE(g.nodesOfKind("Teacher").size(), size_t(2));

        // Removing the Student drops its three edges and nothing else.
        const size_t edgeCount = g.edges().size();
        QVERIFY(g.removeNode(Stud));
        QVERIFY(!g.node(Stud));
        QCOMPARE(g.edges().size(), edgeCount - 3);
        for (const auto &e : g.edges())
            QVERIFY(e.fromNode != Stud && e.toNode != Stud);
        QCOMPARE(q(g.removeNode(Stud).error().code), "graph.not_found");
        QVERIFY(g.addNode("Student") != kInvalidNode); // the singleton slot is free again
    }

    void describeNode()
    {
        Graph g = fixture();
        QCOMPARE(q(g.describeNode(Kd)), "node 5 (Loss 'kd')");
        QCOMPARE(q(g.describeNode(Opt)), "node 7 (Optimizer)");
        QCOMPARE(q(g.describeNode(99)), "node 99");
        QVERIFY(g.setTitle(Opt, "adam"));
        QCOMPARE(q(g.describeNode(Opt)), "node 7 (Optimizer 'adam')");
        QVERIFY(g.moveNode(Opt, 3, 4));
        QCOMPARE(g.node(Opt)->x, 3.0);
        QVERIFY(!g.moveNode(99, 0, 0));
        QVERIFY(!g.setTitle(99, "x"));
    }

    void connectRefused_data()
    {
        QTest::addColumn<int>("from");
        QTest::addColumn<QString>("fromPort");
        QTest::addColumn<int>("to");
        QTest::addColumn<QString>("toPort");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("message");

        // Extra nodes: 9 and 10 Combine (9 -> 10), 11 and 12 Projection (11 -> 12).
        QTest::newRow("missing from") << 99 << "logits" << int(Kd) << "teacher"
                                      << "graph.not_found"
                                      << "node 99 does not exist";
        QTest::newRow("missing to") << int(Teach) << "logits" << 99 << "teacher"
                                    << "graph.not_found"
                                    << "node 99 does not exist";
        QTest::newRow("unknown output") << int(Teach) << "logitz" << int(Ce) << "teacher"
                                        << "graph.unknown_port"
                                        << "node 2 (Teacher 'teacher'): no output port 'logitz' "
                                           "(outputs: logits, hidden)";
        QTest::newRow("input used as output") << int(Ce) << "student" << 9 << "terms"
                                              << "graph.unknown_port"
                                              << "no output port 'student'";
        QTest::newRow("unknown input") << int(Teach) << "logits" << int(Ce) << "teachr"
                                       << "graph.unknown_port"
                                       << "node 4 (Loss 'ce'): no input port";
        QTest::newRow("types differ")
            << int(Teach) << "hidden" << int(Ce) << "teacher"
            << "graph.incompatible_ports"
            << "node 4 (Loss 'ce'): input port 'teacher' expects Logits, got Hidden from node 2 "
               "(Teacher 'teacher') port 'hidden'";
        QTest::newRow("duplicate") << int(Teach) << "logits" << int(Kd) << "teacher"
                                   << "graph.duplicate_edge"
                                   << "already connected";
        QTest::newRow("single input taken")
            << int(Stud) << "logits" << int(Kd) << "teacher"
            << "graph.input_already_connected"
            << "already connected to node 2 (Teacher 'teacher') port 'logits'";
        QTest::newRow("self loop") << 11 << "hidden" << 11 << "hidden"
                                   << "graph.cycle"
                                   << "itself";
        QTest::newRow("cycle of combines") << 10 << "loss" << 9 << "terms"
                                           << "graph.cycle"
                                           << "would create a cycle";
        QTest::newRow("cycle of projections") << 12 << "hidden" << 11 << "hidden"
                                              << "graph.cycle"
                                              << "would create a cycle";
    }

    void connectRefused()
    {
        QFETCH(int, from);
        QFETCH(QString, fromPort);
        QFETCH(int, to);
        QFETCH(QString, toPort);
        QFETCH(QString, code);
        QFETCH(QString, message);

        Graph g = fixture();
        QCOMPARE(g.addNode("Combine"), 9);
        QCOMPARE(g.addNode("Combine"), 10);
        QCOMPARE(g.addNode("Projection"), 11);
        QCOMPARE(g.addNode("Projection"), 12);
        QVERIFY(g.connect({9, "loss", 10, "terms"}));
        QVERIFY(g.connect({11, "hidden", 12, "hidden"}));
        const std::string before = graphToJson(g);

        const auto status = g.connect({from, fromPort.toStdString(), to, toPort.toStdString()});
        QVERIFY(!status);
        QCOMPARE(q(status.error().code), code);
        QVERIFY2(q(status.error().message).contains(message), status.error().message.c_str());
        QCOMPARE(q(graphToJson(g)), q(before));
    }

    void connectAndDisconnect()
    {
        Graph g = fixture();
        QCOMPARE(g.addNode("Loss"), 9);
        QVERIFY(g.connect({Stud, "logits", 9, "student"}));
        QVERIFY(g.connect({Teach, "logits", 9, "teacher"}));
        QVERIFY(g.connect({9, "loss", Sum, "terms"})); // a third term on Combine.terms
        QCOMPARE(g.edgesInto(Sum, "terms").size(), size_t(3));
        QCOMPARE(g.edgesFrom(Stud).size(), size_t(3));
        QCOMPARE(g.source(9, "teacher")->id, int(Teach));
        QVERIFY(!g.source(9, "labels"));
        QVERIFY2(validateGraph(g).empty(), qPrintable(issuesText(validateGraph(g))));

        const Edge edge{Teach, "logits", 9, "teacher"};
        QVERIFY(g.disconnect(edge));
        QVERIFY(!g.source(9, "teacher"));
        const std::string before = graphToJson(g);
        QCOMPARE(q(g.disconnect(edge).error().code), "graph.not_found");
        QCOMPARE(q(graphToJson(g)), q(before));
        QVERIFY(g.connect(edge)); // the port is free again
    }

    void setParam_data()
    {
        QTest::addColumn<int>("node");
        QTest::addColumn<QString>("name");
        QTest::addColumn<ParamValue>("value");
        QTest::addColumn<QString>("code"); // empty: accepted
        QTest::addColumn<ParamValue>("stored");

        using I = std::int64_t;
        using S = std::string;
        const ParamValue none;
        QTest::newRow("int") << int(Stud) << "layers" << ParamValue(I(3)) << "" << ParamValue(I(3));
        QTest::newRow("int from integral double")
            << int(Stud) << "layers" << ParamValue(4.0) << "" << ParamValue(I(4));
        QTest::newRow("int from fraction")
            << int(Stud) << "layers" << ParamValue(2.5) << "graph.param_type" << none;
        QTest::newRow("int from text")
            << int(Stud) << "layers" << ParamValue(S("2")) << "graph.param_type" << none;
        QTest::newRow("float") << int(Kd) << "temperature" << ParamValue(2.5) << ""
                               << ParamValue(2.5);
        QTest::newRow("float from int stored as double")
            << int(Kd) << "temperature" << ParamValue(I(2)) << "" << ParamValue(2.0);
        QTest::newRow("float out of range is kept")
            << int(Kd) << "temperature" << ParamValue(1000.0) << "" << ParamValue(1000.0);
        QTest::newRow("float from bool")
            << int(Kd) << "temperature" << ParamValue(true) << "graph.param_type" << none;
        QTest::newRow("enum") << int(Kd) << "kind" << ParamValue(S("reverse-kl")) << ""
                              << ParamValue(S("reverse-kl"));
        QTest::newRow("enum not a choice")
            << int(Kd) << "kind" << ParamValue(S("kl")) << "graph.param_type" << none;
        QTest::newRow("enum from int")
            << int(Kd) << "kind" << ParamValue(I(1)) << "graph.param_type" << none;
        QTest::newRow("bool") << 9 << "bias" << ParamValue(false) << "" << ParamValue(false);
        QTest::newRow("bool from int") << 9 << "bias" << ParamValue(I(0)) << "graph.param_type" << none;
        QTest::newRow("string") << int(Data) << "text_field" << ParamValue(S("body")) << ""
                                << ParamValue(S("body"));
        QTest::newRow("string from number")
            << int(Data) << "text_field" << ParamValue(1.0) << "graph.param_type" << none;
        QTest::newRow("path") << int(Teach) << "path" << ParamValue(S("t.pt")) << ""
                              << ParamValue(S("t.pt"));
        QTest::newRow("unknown param")
            << int(Kd) << "temprature" << ParamValue(2.0) << "graph.unknown_param" << none;
        QTest::newRow("missing node") << 99 << "weight" << ParamValue(1.0) << "graph.not_found" << none;
    }

    void setParam()
    {
        QFETCH(int, node);
        QFETCH(QString, name);
        QFETCH(ParamValue, value);
        QFETCH(QString, code);
        QFETCH(ParamValue, stored);

        Graph g = fixture();
        QCOMPARE(g.addNode("Projection"), 9);
        const std::string before = graphToJson(g);
        const auto status = g.setParam(node, name.toStdString(), value);
        if (!code.isEmpty()) {
            QVERIFY(!status);
            QCOMPARE(q(status.error().code), code);
            if (node != 99)
                QVERIFY2(q(status.error().message).startsWith(q(g.describeNode(node) + ": ")),
                         status.error().message.c_str());
            QCOMPARE(q(graphToJson(g)), q(before));
            return;
        }
        QVERIFY2(status.ok(), status.ok() ? "" : status.error().message.c_str());
        QVERIFY(g.node(node)->params.at(name.toStdString()) == stored);
        QVERIFY(g.param(node, name.toStdString()) == stored);
        QVERIFY(g.resetParam(node, name.toStdString()));
        QCOMPARE(q(graphToJson(g)), q(before));
    }

    void paramAccess()
    {
        Graph g = fixture();
        QCOMPARE(g.paramInt(Stud, "d_model"), std::int64_t(64)); // default
        QCOMPARE(g.paramInt(Teach, "layers"), std::int64_t(2));  // set
        QCOMPARE(g.paramFloat(Kd, "temperature"), 1.0);
        QCOMPARE(q(g.paramString(Ce, "kind")), "cross-entropy");
        QCOMPARE(q(paramValueToString(g.param(Opt, "lr"))), "0.003");
        QCOMPARE(q(g.setParam(Kd, "kind", std::string("kl")).error().message),
                 "node 5 (Loss 'kd'): parameter 'kind' expects one of cross-entropy, forward-kl, "
                 "reverse-kl, gjsd, skew-kl, skew-reverse-kl, tvd, logit-mse, taid, hidden-mse, "
                 "hidden-cosine, topk-kl, got 'kl'");
        QCOMPARE(q(g.resetParam(Kd, "nope").error().code), "graph.unknown_param");
        QVERIFY(g.resetParam(Kd, "weight")); // known and unset: nothing to do
        // A wrongly typed value from a file reads as the default.
        setRawParam(g, Stud, "layers", "two");
        QCOMPARE(g.paramInt(Stud, "layers"), std::int64_t(2));
        QVERIFY(g.resetParam(Stud, "layers"));
        setRawParam(g, Stud, "colour", "red"); // unknown names are kept and can be removed
        QVERIFY(g.resetParam(Stud, "colour"));
        QVERIFY(g.node(Stud)->params.empty());
    }

    void validation_data()
    {
        QTest::addColumn<Mutation>("mutate");
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("node");
        QTest::addColumn<QString>("port");
        QTest::addColumn<QString>("param");
        QTest::addColumn<QString>("message");

        using S = std::string;
        using I = std::int64_t;
        auto toHiddenMse = [](Graph &g) {
            ENSURE(g.setParam(Kd, "kind", S("hidden-mse")));
            ENSURE(g.disconnect({Stud, "logits", Kd, "student"}));
            ENSURE(g.disconnect({Teach, "logits", Kd, "teacher"}));
            ENSURE(g.connect({Teach, "hidden", Kd, "teacher_hidden"}));
        };

        QTest::newRow("unknown param")
            << Mutation([](Graph &g) { setRawParam(g, Kd, "temprature", 2); }) << "UnknownParam"
            << int(Kd) << ""
            << "temprature"
            << "node 5 (Loss 'kd'): unknown parameter";
        QTest::newRow("param type")
            << Mutation([](Graph &g) { setRawParam(g, Stud, "layers", "two"); }) << "ParamType"
            << int(Stud) << ""
            << "layers"
            << "expects an integer, got 'two'";
        QTest::newRow("enum from file")
            << Mutation([](Graph &g) { setRawParam(g, Kd, "kind", "kl"); }) << "ParamType"
            << int(Kd) << ""
            << "kind"
            << "expects one of cross-entropy";
        QTest::newRow("out of range")
            << Mutation([](Graph &g) { ENSURE(g.setParam(Kd, "temperature", 1000.0)); })
            << "ParamOutOfRange" << int(Kd) << ""
            << "temperature"
            << "node 5 (Loss 'kd'): parameter 'temperature' = 1000 is out of range (minimum "
               "0.05, maximum 100)";
        QTest::newRow("int out of range")
            << Mutation([](Graph &g) { ENSURE(g.setParam(Teach, "layers", I(0))); }) << "ParamOutOfRange"
            << int(Teach) << ""
            << "layers"
            << "minimum 1, maximum 64";
        QTest::newRow("unknown output port") << Mutation([](Graph &g) {
            addRawEdge(g, {Teach, "logitz", Ce, "teacher"});
        }) << "UnknownPort" << int(Teach) << "logitz"
                                             << ""
                                             << "no output port 'logitz'";
        QTest::newRow("unknown input port") << Mutation([](Graph &g) {
            addRawEdge(g, {Teach, "logits", Ce, "teachr"});
        }) << "UnknownPort" << int(Ce) << "teachr"
                                            << ""
                                            << "no input port 'teachr'";
        QTest::newRow("incompatible ports")
            << Mutation([](Graph &g) {
                   addRawEdge(g, {Teach, "hidden", Ce, "teacher"});
               })
            << "IncompatiblePorts" << int(Ce) << "teacher"
            << ""
            << "node 4 (Loss 'ce'): input port 'teacher' expects Logits, got Hidden from node 2 "
               "(Teacher 'teacher') port 'hidden'";
        QTest::newRow("cycle") << Mutation([](Graph &g) {
            g.addNode("Combine");
            ENSURE(g.connect({Sum, "loss", 9, "terms"}));
            addRawEdge(g, {9, "loss", Sum, "terms"});
        }) << "Cycle" << int(Sum)
                               << "terms"
                               << ""
                               << "closes a cycle";
        QTest::newRow("duplicate edge") << Mutation([](Graph &g) {
            addRawEdge(g, {Teach, "logits", Kd, "teacher"});
        }) << "DuplicateEdge" << int(Kd) << "teacher"
                                        << ""
                                        << "twice";
        QTest::newRow("second edge into single input")
            << Mutation([](Graph &g) {
                   addRawEdge(g, {Stud, "logits", Kd, "teacher"});
               })
            << "InputAlreadyConnected" << int(Kd) << "teacher"
            << ""
            << "takes one edge, but another one comes from node 3 (Student 'student')";
        QTest::newRow("required input") << Mutation([](Graph &g) {
            ENSURE(g.disconnect({Data, "tokens", Stud, "tokens"}));
        }) << "MissingInput" << int(Stud)
                                        << "tokens"
                                        << ""
                                        << "node 3 (Student 'student'): required input 'tokens'";
        QTest::newRow("no settings")
            << Mutation([](Graph &g) { ENSURE(g.removeNode(Run)); }) << "MissingNode" << -1 << ""
            << ""
            << "no Settings node";
        QTest::newRow("no student")
            << Mutation([](Graph &g) { ENSURE(g.removeNode(Stud)); }) << "MissingNode" << -1 << ""
            << ""
            << "no Student node";
        QTest::newRow("second singleton") << Mutation([](Graph &g) {
            editJson(g, [](QJsonObject &root) {
                QJsonArray nodes = root["nodes"].toArray();
                nodes.append(QJsonObject{{"id", 9}, {"kind", "Settings"}});
                root["nodes"] = nodes;
            });
        }) << "Singleton" << 9 << ""
                                          << ""
                                          << "node 8 (Settings) is one";
        QTest::newRow("heads divide d_model")
            << Mutation([](Graph &g) { ENSURE(g.setParam(Teach, "heads", I(5))); }) << "Invalid"
            << int(Teach) << ""
            << "heads"
            << "heads = 5 must divide d_model = 128";
        QTest::newRow("llama kv_heads") << Mutation([](Graph &g) {
            ENSURE(g.setParam(Stud, "architecture", S("llama")));
            ENSURE(g.setParam(Stud, "kv_heads", I(3)));
        }) << "Invalid" << int(Stud) << ""
                                        << "kv_heads"
                                        << "kv_heads = 3 must divide heads = 4";
        QTest::newRow("llama odd head size") << Mutation([](Graph &g) {
            ENSURE(g.setParam(Teach, "architecture", S("llama")));
            ENSURE(g.setParam(Teach, "d_model", I(12)));
        }) << "Invalid" << int(Teach) << ""
                                             << "heads"
                                             << "the head size d_model / heads = 3 is odd";
        QTest::newRow("student vocab")
            << Mutation([](Graph &g) { ENSURE(g.setParam(Stud, "vocab", I(100))); }) << "VocabularyMismatch"
            << int(Stud) << ""
            << "vocab"
            << "vocab = 100 differs from the vocabulary of node 1 (Dataset 'data'), 64";
        QTest::newRow("teacher vocab on a byte corpus") << Mutation([](Graph &g) {
            ENSURE(g.setParam(Data, "source", S("text")));
            ENSURE(g.setParam(Data, "path", S("corpus.txt")));
            ENSURE(g.setParam(Teach, "vocab", I(64)));
        }) << "VocabularyMismatch" << int(Teach) << ""
                                                        << "vocab"
                                                        << "vocab = 64 differs from the "
                                                           "vocabulary of node 1 (Dataset "
                                                           "'data'), 256";
        QTest::newRow("teacher file")
            << Mutation([](Graph &g) { ENSURE(g.setParam(Teach, "source", S("torchscript"))); })
            << "Invalid" << int(Teach) << ""
            << "path"
            << "source 'torchscript' needs a file";
        QTest::newRow("corpus file")
            << Mutation([](Graph &g) { ENSURE(g.setParam(Data, "source", S("jsonl"))); }) << "Invalid"
            << int(Data) << ""
            << "path"
            << "source 'jsonl' needs a corpus file";
        QTest::newRow("divergence needs teacher") << Mutation([](Graph &g) {
            ENSURE(g.disconnect({Teach, "logits", Kd, "teacher"}));
        }) << "MissingInput" << int(Kd) << "teacher"
                                                  << ""
                                                  << "a forward-kl loss needs input 'teacher'";
        QTest::newRow("cross-entropy needs labels") << Mutation([](Graph &g) {
            ENSURE(g.disconnect({Data, "labels", Ce, "labels"}));
        }) << "MissingInput" << int(Ce) << "labels"
                                                    << ""
                                                    << "a cross-entropy loss needs input 'labels'";
        QTest::newRow("hidden loss needs hidden inputs")
            << Mutation([](Graph &g) { ENSURE(g.setParam(Kd, "kind", S("hidden-cosine"))); })
            << "MissingInput" << int(Kd) << "student_hidden"
            << ""
            << "hidden-cosine";
        QTest::newRow("teacher input from the student") << Mutation([](Graph &g) {
            ENSURE(g.disconnect({Teach, "logits", Kd, "teacher"}));
            ENSURE(g.connect({Stud, "logits", Kd, "teacher"}));
        }) << "Invalid" << int(Kd) << "teacher"
                                                        << ""
                                                        << "must come from the Teacher";
        QTest::newRow("hidden sizes") << Mutation([=](Graph &g) {
            toHiddenMse(g);
            ENSURE(g.connect({Stud, "hidden", Kd, "student_hidden"}));
        }) << "HiddenSizeMismatch" << int(Kd)
                                      << "student_hidden"
                                      << ""
                                      << "student hidden size 64 differs from teacher hidden size "
                                         "128; insert a Projection";
        QTest::newRow("projection of the wrong size") << Mutation([=](Graph &g) {
            toHiddenMse(g);
            g.addNode("Projection");
            ENSURE(g.setParam(9, "out_dim", I(96)));
            ENSURE(g.connect({Stud, "hidden", 9, "hidden"}));
            ENSURE(g.connect({9, "hidden", Kd, "student_hidden"}));
        }) << "HiddenSizeMismatch" << int(Kd) << "student_hidden"
                                                      << ""
                                                      << "size 96 differs";
        QTest::newRow("top-k with a temperature ramp") << Mutation([](Graph &g) {
            ENSURE(g.setParam(Kd, "kind", S("topk-kl")));
            ENSURE(g.setParam(Kd, "temperature_schedule", S("linear")));
        }) << "Invalid" << int(Kd) << ""
                                                       << "temperature_schedule"
                                                       << "constant temperature";
        QTest::newRow("loss output unconnected")
            << Mutation([](Graph &g) {
                   ENSURE(g.disconnect({Kd, "loss", Sum, "terms"}));
               })
            << "Invalid" << int(Kd) << "loss"
            << ""
            << "node 5 (Loss 'kd'): its output is not connected; it does not train anything";
        QTest::newRow("loss not reaching the optimizer") << Mutation([](Graph &g) {
            ENSURE(g.disconnect({Sum, "loss", Opt, "loss"}));
        }) << "Invalid" << int(Ce) << "loss"
                                                         << ""
                                                         << "does not reach the Optimizer";
    }

    void validation()
    {
        QFETCH(Mutation, mutate);
        QFETCH(QString, code);
        QFETCH(int, node);
        QFETCH(QString, port);
        QFETCH(QString, param);
        QFETCH(QString, message);

        Graph g = fixture();
        mutate(g);
        const auto issues = validateGraph(g);
        const auto found = std::find_if(issues.begin(), issues.end(), [&](const auto &issue) {
            return q(issueCodeName(issue.code)) == code && issue.nodeId == node;
        });
        QVERIFY2(found != issues.end(), qPrintable(issuesText(issues)));
        QCOMPARE(q(found->port), port);
        QCOMPARE(q(found->param), param);
        QVERIFY2(q(found->message).contains(message), found->message.c_str());
        if (node != kInvalidNode)
            QVERIFY(q(found->message).startsWith(q(g.describeNode(node) + ": ")));
        // Edge problems carry the edge, so that the canvas can mark it.
        const bool edgeProblem = code == "UnknownPort" || code == "IncompatiblePorts" ||
                                 code == "Cycle" || code == "DuplicateEdge" ||
                                 code == "InputAlreadyConnected";
        QCOMPARE(found->edge.has_value(), edgeProblem);
    }

    void validationPassesThroughProjections()
    {
        // A hidden loss fed through an adapting Projection, and an unused input connected.
        Graph g = fixture();
        QCOMPARE(g.addNode("Projection"), 9);
        QVERIFY(g.setParam(Kd, "kind", std::string("hidden-cosine")));
        QVERIFY(g.connect({Stud, "hidden", 9, "hidden"}));
        QVERIFY(g.connect({9, "hidden", Kd, "student_hidden"}));
        QVERIFY(g.connect({Teach, "hidden", Kd, "teacher_hidden"}));
        QVERIFY2(validateGraph(g).empty(), qPrintable(issuesText(validateGraph(g))));
        // The Projection adapts to the teacher's size, so a wider teacher is fine too.
        QVERIFY(g.setParam(Teach, "d_model", std::int64_t(256)));
        QVERIFY2(validateGraph(g).empty(), qPrintable(issuesText(validateGraph(g))));
        // A student_hidden coming from the Teacher through the Projection is wrong.
        QVERIFY(g.disconnect({Stud, "hidden", 9, "hidden"}));
        QVERIFY(g.connect({Teach, "hidden", 9, "hidden"}));
        const auto issues = validateGraph(g);
        QCOMPARE(issues.size(), size_t(1));
        QCOMPARE(q(issues[0].port), "student_hidden");
        QVERIFY(q(issues[0].message).contains("not from node 2 (Teacher 'teacher')"));
    }

    void emptyGraphNeedsFourNodes()
    {
        const auto issues = validateGraph(Graph());
        QCOMPARE(issues.size(), size_t(4));
        for (const auto &issue : issues) {
            QCOMPARE(issue.code, IssueCode::MissingNode);
            QCOMPARE(issue.nodeId, kInvalidNode);
        }
    }

    void templates_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QStringList>("losses"); // kind:weight of each Loss node, in order
        QTest::newRow("classic-kd")
            << "classic-kd" << QStringList{"cross-entropy:0.1", "forward-kl:0.9"};
        QTest::newRow("reverse-kl")
            << "reverse-kl" << QStringList{"cross-entropy:0.1", "reverse-kl:0.9"};
        QTest::newRow("gkd") << "gkd" << QStringList{"gjsd:1"};
        QTest::newRow("taid") << "taid" << QStringList{"taid:1", "cross-entropy:0.1"};
        QTest::newRow("hidden-state")
            << "hidden-state"
            << QStringList{"cross-entropy:0.1", "forward-kl:0.9", "hidden-cosine:1"};
        QTest::newRow("sparse-topk")
            << "sparse-topk" << QStringList{"topk-kl:0.9", "cross-entropy:0.1"};
    }

    void templates()
    {
        QFETCH(QString, name);
        QFETCH(QStringList, losses);
        const auto loaded = loadTemplate(name.toStdString());
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        const Graph &g = loaded.value();
        QVERIFY2(validateGraph(g).empty(), qPrintable(issuesText(validateGraph(g))));
        QCOMPARE(q(g.meta.at("template")), name);
        QVERIFY(g.meta.at("description").size() > 100);

        QStringList found;
        for (const Node *loss : g.nodesOfKind("Loss"))
            found << q(g.paramString(loss->id, "kind") + ":" +
                       paramValueToString(g.paramFloat(loss->id, "weight")));
        QCOMPARE(found, losses);

        const Node *teacher = g.nodesOfKind("Teacher").at(0);
        const Node *student = g.nodesOfKind("Student").at(0);
        const Node *settings = g.nodesOfKind("Settings").at(0);
        QCOMPARE(g.paramInt(teacher->id, "layers"), std::int64_t(2));
        QCOMPARE(g.paramInt(teacher->id, "d_model"), std::int64_t(128));
        QCOMPARE(g.paramInt(student->id, "d_model"), std::int64_t(64));
        QCOMPARE(g.paramInt(settings->id, "steps"), std::int64_t(300));
        QCOMPARE(g.paramFloat(settings->id, "on_policy_fraction"), name == "gkd" ? 0.5 : 0.0);
        QVERIFY(g.nodesOfKind("Dataset").at(0)->params.empty());
    }

    void templateDirectory()
    {
        const std::vector<std::string> expected = {"classic-kd", "gkd",         "hidden-state",
                                                   "reverse-kl", "sparse-topk", "taid"};
        QVERIFY(templateNames() == expected);
        const auto missing = loadTemplate("nope");
        QVERIFY(!missing);
        QVERIFY2(q(missing.error().message).contains("unknown template 'nope'") &&
                     q(missing.error().message).contains("classic-kd, gkd, hidden-state"),
                 missing.error().message.c_str());

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QVERIFY(saveGraphFile(fixture(), QDir(dir.path()).filePath("mine.json").toStdString()));
        qputenv("DISTILLERY_TEMPLATES", dir.path().toUtf8());
        const std::vector<std::string> names = templateNames();
        const auto mine = loadTemplate("mine");
        qunsetenv("DISTILLERY_TEMPLATES");
        QVERIFY(names == std::vector<std::string>{"mine"});
        QVERIFY(mine.ok());
        QCOMPARE(q(templatesDir()), q(DISTILLERY_SOURCE_DIR "/resources/templates"));
    }

    void jsonRoundTrip_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("fixture") << "";
        for (const auto &name : templateNames())
            QTest::newRow(name.c_str()) << q(name);
    }

    void jsonRoundTrip()
    {
        QFETCH(QString, name);
        const Graph g = name.isEmpty() ? fixture() : loadTemplate(name.toStdString()).value();
        const std::string text = graphToJson(g);
        const auto back = graphFromJson(text);
        QVERIFY(back.ok());
        QCOMPARE(q(graphToJson(back.value())), q(text));
        QCOMPARE(back->nodes().size(), g.nodes().size());
        QVERIFY(back->edges() == g.edges());
        QCOMPARE(back->nextId(), g.nextId());
        for (size_t i = 0; i < g.nodes().size(); ++i)
            QVERIFY(back->nodes()[i].params == g.nodes()[i].params); // same values, same types

        // The layout of the text: the header first, indent 2, only the parameters set.
        const QJsonObject root = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
        QCOMPARE(root["format"].toString(), "distillery.graph");
        QCOMPARE(root["version"].toInt(), 1);
        QVERIFY(q(text).startsWith("{\n  \"format\": \"distillery.graph\",\n  \"version\": 1,"));
        const QJsonObject first = root["nodes"].toArray().at(0).toObject();
        QCOMPARE(first["kind"].toString(), "Dataset");
        QVERIFY(first["params"].toObject().isEmpty());
    }

    void loadingKeepsWhatValidationReports()
    {
        const QByteArray text = doc(
            R"([{"id": 4, "kind": "Loss", "params": {"temperature": 2, "colour": "red",
                                                     "weight": -1, "kind": 3}},
                {"id": 2, "kind": "Teacher"}])",
            R"([{"from": 2, "from_port": "hidden", "to": 4, "to_port": "teacher"},
                {"from": 2, "from_port": "hidden", "to": 4, "to_port": "teacher"}])");
        const auto loaded = graphFromJson(text.toStdString(), "g.json");
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        const Graph &g = loaded.value();
        QCOMPARE(g.nextId(), 5);
        const auto &params = g.node(4)->params;
        QVERIFY(params.at("temperature") == ParamValue(2.0)); // a Float is stored as a double
        QVERIFY(params.at("colour") == ParamValue(std::string("red")));
        QVERIFY(params.at("kind") == ParamValue(std::int64_t(3)));
        QCOMPARE(g.edges().size(), size_t(2));

        QStringList codes;
        for (const auto &issue : validateGraph(g))
            if (issue.nodeId == 4)
                codes << q(issueCodeName(issue.code));
        for (const char *code :
             {"UnknownParam", "ParamOutOfRange", "ParamType", "IncompatiblePorts", "DuplicateEdge"})
            QVERIFY2(codes.contains(code), qPrintable(codes.join(", ")));
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("message");

        QTest::newRow("not json") << QByteArray(R"({"format": "distillery.graph",)")
                                  << "graph.invalid_json"
                                  << "bad.json: not valid JSON: parse error at line 1";
        QTest::newRow("empty") << QByteArray() << "graph.invalid_json"
                               << "bad.json: not valid JSON";
        QTest::newRow("top level array") << QByteArray("[]") << "graph.malformed"
                                         << "bad.json: expected a JSON object at the top level";
        QTest::newRow("no format")
            << QByteArray(R"({"version": 1, "nodes": [], "edges": []})") << "graph.unsupported_format"
            << "bad.json: not a Distillery graph: \"format\" is missing";
        QTest::newRow("wrong format")
            << QByteArray(R"({"format": "other", "version": 1, "nodes": [], "edges": []})")
            << "graph.unsupported_format"
            << "bad.json: format: not a Distillery graph";
        QTest::newRow("no version")
            << QByteArray(R"({"format": "distillery.graph", "nodes": [], "edges": []})")
            << "graph.unsupported_version"
            << "bad.json: version: missing (supported versions: 1)";
        QTest::newRow("newer version")
            << QByteArray(R"({"format": "distillery.graph", "version": 2, "nodes": []})")
            << "graph.unsupported_version"
            << "bad.json: version: graph format version 2 is not supported (supported versions: "
               "1); the file was written by a newer Distillery";
        QTest::newRow("version as text")
            << QByteArray(R"({"format": "distillery.graph", "version": "1"})")
            << "graph.unsupported_version"
            << "version \"1\" is not supported";
        QTest::newRow("meta not object")
            << QByteArray(R"({"format": "distillery.graph", "version": 1, "meta": [],
                              "nodes": [], "edges": []})")
            << "graph.malformed"
            << "bad.json: meta: expected an object, got an array";
        QTest::newRow("nodes not array")
            << QByteArray(R"({"format": "distillery.graph", "version": 1, "nodes": {},
                              "edges": []})")
            << "graph.malformed"
            << "bad.json: nodes: expected an array, got an object";
        QTest::newRow("edges missing")
            << QByteArray(R"({"format": "distillery.graph", "version": 1, "nodes": []})")
            << "graph.malformed"
            << "bad.json: edges: missing";
        QTest::newRow("edges not array") << doc("[]", "3") << "graph.malformed"
                                         << "bad.json: edges: expected an array, got a number";
        QTest::newRow("node not object") << doc("[1]") << "graph.malformed"
                                         << "bad.json: nodes[0]: expected an object, got a number";
        QTest::newRow("node without id") << doc(R"([{"kind": "Dataset"}])") << "graph.malformed"
                                         << "bad.json: nodes[0].id: missing";
        QTest::newRow("id as text") << doc(R"([{"id": "1", "kind": "Dataset"}])") << "graph.malformed"
                                    << "bad.json: nodes[0].id: expected a node id (a positive "
                                       "integer), got a string";
        QTest::newRow("fractional id")
            << doc(R"([{"id": 1.5, "kind": "Dataset"}])") << "graph.malformed"
            << "nodes[0].id: expected a node id";
        QTest::newRow("zero id") << doc(R"([{"id": 0, "kind": "Dataset"}])") << "graph.malformed"
                                 << "nodes[0].id: expected a node id (a positive integer), got 0";
        QTest::newRow("node without kind") << doc(R"([{"id": 1}])") << "graph.malformed"
                                           << "bad.json: nodes[0].kind: missing";
        QTest::newRow("kind as number")
            << doc(R"([{"id": 1, "kind": 7}])") << "graph.malformed"
            << "bad.json: nodes[0].kind: expected a string, got a number";
        QTest::newRow("duplicate ids")
            << doc(R"([{"id": 1, "kind": "Dataset"}, {"id": 1, "kind": "Student"}])")
            << "graph.malformed"
            << "bad.json: nodes[1].id: duplicate node id 1 (also used by nodes[0])";
        QTest::newRow("unknown kind")
            << doc(R"([{"id": 1, "kind": "Dataset"}, {"id": 2, "kind": "Teachr"}])")
            << "graph.unknown_kind"
            << "bad.json: nodes[1].kind: unknown node kind 'Teachr' (known: Dataset, Teacher, "
               "Student, Projection, Loss, Combine, Optimizer, Settings, Diagnostics)";
        QTest::newRow("title as number")
            << doc(R"([{"id": 1, "kind": "Dataset", "title": 3}])") << "graph.malformed"
            << "bad.json: nodes[0].title: expected a string";
        QTest::newRow("x as text")
            << doc(R"([{"id": 1, "kind": "Dataset", "x": "left"}])") << "graph.malformed"
            << "bad.json: nodes[0].x: expected a number";
        QTest::newRow("params as array")
            << doc(R"([{"id": 1, "kind": "Dataset", "params": []}])") << "graph.malformed"
            << "bad.json: nodes[0].params: expected an object";
        QTest::newRow("float param as array")
            << doc(R"([{"id": 1, "kind": "Dataset"},
                       {"id": 2, "kind": "Loss", "params": {"temperature": [2]}}])")
            << "graph.malformed"
            << "bad.json: nodes[1].params.temperature: expected a number, got an array";
        QTest::newRow("enum param as object")
            << doc(R"([{"id": 1, "kind": "Loss", "params": {"kind": {}}}])") << "graph.malformed"
            << "bad.json: nodes[0].params.kind: expected a string, got an object";
        QTest::newRow("bool param as null")
            << doc(R"([{"id": 1, "kind": "Projection", "params": {"bias": null}}])")
            << "graph.malformed"
            << "bad.json: nodes[0].params.bias: expected true or false, got null";
        QTest::newRow("unknown param as null")
            << doc(R"([{"id": 1, "kind": "Projection", "params": {"colour": null}}])")
            << "graph.malformed"
            << "nodes[0].params.colour: expected a boolean, number or string";
        QTest::newRow("edge not object") << doc("[]", R"(["1->2"])") << "graph.malformed"
                                         << "bad.json: edges[0]: expected an object, got a string";
        QTest::newRow("edge to missing node")
            << doc(R"([{"id": 1, "kind": "Dataset"}])",
                   R"([{"from": 1, "from_port": "tokens", "to": 9, "to_port": "tokens"}])")
            << "graph.malformed"
            << "bad.json: edges[0].to: no node with id 9";
        QTest::newRow("edge without from")
            << doc(R"([{"id": 1, "kind": "Dataset"}])",
                   R"([{"from_port": "tokens", "to": 1, "to_port": "tokens"}])")
            << "graph.malformed"
            << "bad.json: edges[0].from: missing";
        QTest::newRow("edge port as number")
            << doc(R"([{"id": 1, "kind": "Dataset"}, {"id": 2, "kind": "Student"}])",
                   R"([{"from": 1, "from_port": 0, "to": 2, "to_port": "tokens"}])")
            << "graph.malformed"
            << "bad.json: edges[0].from_port: expected a string, got a number";
    }

    void malformed()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, code);
        QFETCH(QString, message);
        const auto loaded = graphFromJson(text.toStdString(), "bad.json");
        QVERIFY(!loaded);
        QCOMPARE(q(loaded.error().code), code);
        QVERIFY2(q(loaded.error().message).contains(message), loaded.error().message.c_str());
    }

    void oldNodeNames()
    {
        const auto loaded = graphFromJson(
            doc(R"([{"id": 3, "kind": "RunSettings", "params": {"steps": 7}}])").toStdString());
        QVERIFY(loaded.ok());
        QCOMPARE(q(loaded->node(3)->kind), "Settings");
        QCOMPARE(loaded->paramInt(3, "steps"), std::int64_t(7));
        QVERIFY(q(graphToJson(loaded.value())).contains("\"kind\": \"Settings\""));
    }

    void files()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = QDir(dir.path()).filePath("graph.json").toStdString();
        Graph g = fixture();
        g.meta["note"] = "round trip";
        QVERIFY(saveGraphFile(g, path));
        QVERIFY(g.setTitle(Kd, "distill")); // overwrite an existing file
        QVERIFY(saveGraphFile(g, path));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"graph.json"});
        const auto loaded = loadGraphFile(path);
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        QCOMPARE(q(graphToJson(loaded.value())), q(graphToJson(g)));
        QCOMPARE(q(loaded->meta.at("note")), "round trip");

        const std::string missing = QDir(dir.path()).filePath("none.json").toStdString();
        const auto notThere = loadGraphFile(missing);
        QVERIFY(!notThere);
        QCOMPARE(q(notThere.error().message), q(missing + ": no such file (expected a graph file)"));
        QVERIFY(
            q(loadGraphFile(dir.path().toStdString()).error().message).contains("is a directory"));
        const std::string nowhere = QDir(dir.path()).filePath("no/such/dir/g.json").toStdString();
        const auto unwritable = saveGraphFile(g, nowhere);
        QVERIFY(!unwritable);
        QVERIFY(q(unwritable.error().message).contains(q(nowhere)));

        // A broken file names its path in the message.
        QFile broken(QDir(dir.path()).filePath("broken.json"));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write(doc(R"([{"id": 1, "kind": "Teachr"}])"));
        broken.close();
        const auto bad = loadGraphFile(broken.fileName().toStdString());
        QVERIFY(q(bad.error().message).startsWith(broken.fileName() + ": nodes[0].kind: "));
    }

    // What a run would refuse, validation reports while the graph is edited, on the field.
    void validationAgreesWithTheRun_data()
    {
        QTest::addColumn<QString>("graph");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("param");
        QTest::addColumn<QVariant>("value");
        QTest::addColumn<QString>("message");
        QTest::newRow("prompt_len >= seq_len on-policy")
            << "gkd" << "Settings" << "prompt_len" << QVariant(qlonglong(64))
            << "prompt_len = 64 must be shorter than seq_len = 64 for on-policy sampling";
        QTest::newRow("top_k above the vocabulary")
            << "sparse-topk" << "Loss" << "top_k" << QVariant(qlonglong(65))
            << "top_k = 65 exceeds the vocabulary of the dataset (64)";
        QTest::newRow("student_layer beyond the student")
            << "hidden-state" << "Loss" << "student_layer" << QVariant(qlonglong(7))
            << "student_layer = 7, but node 3 (Student 'student') has hidden layers 0..1";
        QTest::newRow("teacher_layer beyond the teacher")
            << "hidden-state" << "Loss" << "teacher_layer" << QVariant(qlonglong(3))
            << "teacher_layer = 3, but node 2 (Teacher 'teacher') has hidden layers 0..2";
    }
    void validationAgreesWithTheRun()
    {
        QFETCH(QString, graph);
        QFETCH(QString, kind);
        QFETCH(QString, param);
        QFETCH(QVariant, value);
        QFETCH(QString, message);
        Graph g = loadTemplate(graph.toStdString()).value();
        QVERIFY(validateGraph(g).empty());
        if (graph == "gkd")
            ENSURE(g.setParam(g.nodesOfKind("Settings").front()->id, "seq_len", std::int64_t(64)));
        bool set = false;
        for (const Node *n : g.nodesOfKind(kind.toStdString()))
            if (g.node(n->id)->params.count(param.toStdString()) || kind != "Loss"
                || g.paramString(n->id, "kind") == (graph == "sparse-topk" ? "topk-kl" : "hidden-cosine")) {
                ENSURE(g.setParam(n->id, param.toStdString(), std::int64_t(value.toLongLong())));
                set = true;
                break;
            }
        QVERIFY(set);
        const auto issues = validateGraph(g);
        QCOMPARE(int(issues.size()), 1);
        QVERIFY2(q(issues.front().message).contains(message), issues.front().message.c_str());
        QCOMPARE(q(issues.front().param), param);
    }

    // Files a graph names are looked for beside the graph file, whatever the current folder,
    // and a missing one is a validation issue on the node's path.
    void relativePathsFollowTheGraphFile()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath("data"));
        {
            QFile corpus(QDir(dir.path()).filePath("data/corpus.txt"));
            QVERIFY(corpus.open(QIODevice::WriteOnly));
            corpus.write(QByteArray(4000, 'a'));
        }
        Graph g = loadTemplate("classic-kd").value();
        const NodeId d = g.nodesOfKind("Dataset").front()->id;
        ENSURE(g.setParam(d, "source", std::string("text")));
        ENSURE(g.setParam(d, "path", std::string("data/corpus.txt")));
        for (const Node *n : g.nodesOfKind("Teacher"))
            ENSURE(g.setParam(n->id, "vocab", std::int64_t(0)));
        for (const Node *n : g.nodesOfKind("Student"))
            ENSURE(g.setParam(n->id, "vocab", std::int64_t(0)));
        const std::string file = QDir(dir.path()).filePath("g.json").toStdString();
        ENSURE(saveGraphFile(g, file));
        const Graph loaded = loadGraphFile(file).value();
        QCOMPARE(q(loaded.baseDirectory), QDir(dir.path()).absolutePath());
        QCOMPARE(q(loaded.resolvePath("data/corpus.txt")), QDir(dir.path()).filePath("data/corpus.txt"));
        const auto issues = validateGraph(loaded);
        QVERIFY2(issues.empty(), issues.empty() ? "" : issues.front().message.c_str());
        const Graph resolved = loaded.withResolvedPaths();
        QCOMPARE(q(resolved.paramString(d, "path")), QDir(dir.path()).filePath("data/corpus.txt"));

        ENSURE(g.setParam(d, "path", std::string("data/missing.txt")));
        ENSURE(saveGraphFile(g, file));
        const auto missing = validateGraph(loadGraphFile(file).value());
        QCOMPARE(int(missing.size()), 1);
        QCOMPARE(q(missing.front().param), "path");
        QVERIFY2(q(missing.front().message).contains("the corpus file 'data/missing.txt' does not exist"),
                 missing.front().message.c_str());
    }

    // Nesting deep enough to overflow the stack of a recursive reader or printer is refused
    // before any value is built, wherever it is.
    void deepNesting_data()
    {
        QTest::addColumn<QString>("where");
        QTest::addColumn<int>("depth");
        QTest::addColumn<QString>("place");
        for (const char *where : {"format", "meta", "nodes", "params", "title", "id"})
            for (int depth : {80000, 1000000})
                QTest::newRow((std::string(where) + " " + std::to_string(depth)).c_str())
                    << where << depth
                    << (std::string(where) == "format"  ? "bad.json: format[0][0]"
                        : std::string(where) == "meta"  ? "bad.json: meta[0][0]"
                        : std::string(where) == "nodes" ? "bad.json: nodes"
                                                        : "bad.json: nodes[0].");
    }
    void deepNesting()
    {
        QFETCH(QString, where);
        QFETCH(int, depth);
        QFETCH(QString, place);
        const std::string deep = std::string(std::size_t(depth), '[') + std::string(std::size_t(depth), ']');
        std::string text;
        if (where == "format")
            text = R"({"format": )" + deep + R"(, "version": 1, "nodes": [], "edges": []})";
        else if (where == "meta")
            text = R"({"format": "distillery.graph", "version": 1, "meta": )" + deep +
                   R"(, "nodes": [], "edges": []})";
        else if (where == "nodes")
            text = R"({"format": "distillery.graph", "version": 1, "nodes": )" + deep +
                   R"(, "edges": []})";
        else
            text = R"({"format": "distillery.graph", "version": 1, "nodes": [{"id": )" +
                   (where == "id" ? deep : std::string("1")) + R"(, "kind": "Dataset", "title": )" +
                   (where == "title" ? deep : std::string("\"\"")) + R"(, "params": )" +
                   (where == "params" ? "{\"path\": " + deep + "}" : std::string("{}")) +
                   R"(}], "edges": []})";
        const auto loaded = graphFromJson(text, "bad.json");
        QVERIFY(!loaded);
        QCOMPARE(q(loaded.error().code), "graph.invalid_json");
        QVERIFY2(q(loaded.error().message).startsWith(place), loaded.error().message.c_str());
        QVERIFY2(q(loaded.error().message).contains("nested more than 16 levels deep"),
                 loaded.error().message.c_str());
        QVERIFY(loaded.error().message.size() < 200);
    }

    // A number that does not fit in a double is an error at its place, with line and column.
    void numberOutOfRange()
    {
        const QByteArray text = doc(R"([{"id": 1, "kind": "Loss",
                                         "params": {"temperature": 1e999}}])");
        const auto loaded = graphFromJson(text.toStdString(), "bad.json");
        QVERIFY(!loaded);
        QCOMPARE(q(loaded.error().code), "graph.invalid_json");
        QVERIFY2(q(loaded.error().message)
                     .startsWith("bad.json: nodes[0].params.temperature: number 1e999 is out of range"),
                 loaded.error().message.c_str());
        QVERIFY2(q(loaded.error().message).contains("(line 2, column "), loaded.error().message.c_str());
        const auto negative = graphFromJson(doc(R"([{"id": -1e400, "kind": "Loss"}])").toStdString(),
                                            "bad.json");
        QVERIFY(q(negative.error().message).startsWith("bad.json: nodes[0].id: number -1e400"));
    }

    // Huge values are not echoed whole.
    void longValuesAreCut()
    {
        const std::string huge(100000, '7');
        const auto loaded = graphFromJson(
            R"({"format": "distillery.graph", "version": )" + huge + R"(, "nodes": [], "edges": []})",
            "bad.json");
        QVERIFY(!loaded);
        QVERIFY2(loaded.error().message.size() < 300, loaded.error().message.c_str());
        QVERIFY(q(loaded.error().message).contains("(100000 characters)"));
    }

    // Only regular files are read: FIFOs, devices, loops and empty files are clear errors, and
    // nothing blocks or grows without bound.
    void hostileFiles()
    {
        QTemporaryDir dir;
        const std::string fifo = QDir(dir.path()).filePath("pipe.json").toStdString();
        QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
        const auto pipe = loadGraphFile(fifo);
        QVERIFY(!pipe);
        QCOMPARE(q(pipe.error().message),
                 q(fifo + ": is a named pipe (FIFO), expected a graph file (a regular file)"));
        QCOMPARE(q(loadGraphFile("/dev/zero").error().message),
                 "/dev/zero: is a device, expected a graph file (a regular file)");

        const QString loop = QDir(dir.path()).filePath("loop.json");
        QVERIFY(QFile::link(loop, loop));
        QVERIFY2(q(loadGraphFile(loop.toStdString()).error().message).contains("symbolic link loop"),
                 loadGraphFile(loop.toStdString()).error().message.c_str());

        const QString empty = QDir(dir.path()).filePath("empty.json");
        QFile(empty).open(QIODevice::WriteOnly);
        QCOMPARE(q(loadGraphFile(empty.toStdString()).error().message),
                 empty + ": empty file (0 bytes), expected a graph file");

        const QString big = QDir(dir.path()).filePath("big.json");
        {
            QFile f(big);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QVERIFY(f.resize(qint64(17) << 20));
        }
        QVERIFY2(q(loadGraphFile(big.toStdString()).error().message)
                     .contains("the graph file is 17 MiB, more than the limit of 16 MiB"),
                 loadGraphFile(big.toStdString()).error().message.c_str());
    }

    // Saving leaves no temporary file behind, on success or on failure.
    void saveLeavesNoTemporaryFile()
    {
        QTemporaryDir dir;
        Graph g = loadTemplate("classic-kd").value();
        const std::string path = QDir(dir.path()).filePath("g.json").toStdString();
        ENSURE(saveGraphFile(g, path));
        ENSURE(saveGraphFile(g, path));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"g.json"});
        QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::ExeOwner);
        if (::access(dir.path().toLocal8Bit().constData(), W_OK) != 0) { // not root
            QVERIFY(!saveGraphFile(g, path));
            QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"g.json"});
        }
        QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    }
};

QTEST_GUILESS_MAIN(tst_Graph)
#include "tst_graph.moc"
