// `mlv lineage` for people (text, an indented tree) and for Graphviz (dot); JSON is the tree itself.
import MLVCore

enum LineageText {
    /// The node, its stage with command and params, then its inputs one level deeper.
    static func text(_ n: LineageNode, indent: String) {
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

    /// A `digraph` whose nodes are paths (boxes for stage outputs) and whose edges name the stage.
    static func dot(_ n: LineageNode) {
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
