import ArgumentParser
import MLVCore

struct Lineage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the chain of stages, inputs and params behind a model or dataset.",
        discussion: """
        Reads the run records committed at REV (mlv-runs/STAGE.json): the stage that \
        produced PATH, its command and params, each input with its snapshot id and the commit \
        that introduced it, and so on up the chain.

        Examples:
          mlv lineage models/model.json
          mlv lineage models/model.json --rev v1.0 --format json
          mlv lineage models/model.json --format dot | dot -Tpng > lineage.png
        """)

    enum Format: String, ExpressibleByArgument { case text, json, dot }

    @OptionGroup var repo: RepoOptions
    @Option(help: "The commit to read (default HEAD).") var rev: String?
    @Option(help: "Output: text, json or dot (Graphviz).") var format: Format = .text
    @Argument(help: "A tracked output: a model, a dataset, a metrics file.") var path: String

    func run() throws {
        let n = try MLVCore.Lineage(repo.open()).lineage(path, rev: rev)
        switch format {
        case .json: try Out.json(n)
        case .text: text(n, indent: "")
        case .dot:
            var edges: [String] = []
            var nodes: [String: String] = [:]
            func walk(_ x: LineageNode) {
                let id = "\"\(x.path)\""
                nodes[id] = "\(id) [label=\"\(x.path)\\n\(x.snapshot.map { String($0.prefix(12)) } ?? "")\"\(x.stage == nil ? "" : ", shape=box")];"
                for i in x.inputs {
                    edges.append("  \"\(i.path)\" -> \(id)" + (x.stage.map { " [label=\"\($0)\"]" } ?? "") + ";")
                    walk(i)
                }
            }
            walk(n)
            Out.line("digraph lineage {")
            Out.line("  rankdir=LR;")
            for v in nodes.values.sorted() { Out.line("  " + v) }
            for e in edges.sorted() { Out.line(e) }
            Out.line("}")
        }
    }

    func text(_ n: LineageNode, indent: String) {
        var line = "\(indent)\(n.path)"
        if let s = n.snapshot { line += "  snapshot \(s.prefix(12))" }
        if let c = n.commit { line += "  (since commit \(c.prefix(10)))" }
        Out.line(line)
        if let st = n.stage {
            Out.line("\(indent)  ← stage \(st): \(n.command?.joined(separator: " ") ?? "")")
            for (k, v) in (n.params ?? [:]).sorted(by: { $0.key < $1.key }) { Out.line("\(indent)    param \(k) = \(v)") }
        }
        for i in n.inputs { text(i, indent: indent + "    ") }
    }
}
