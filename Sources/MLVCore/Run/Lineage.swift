import MLVSystem
import Foundation
import MLVGit
import MLVStore

/// The chain behind a model or dataset: the stage that produced it, that run's inputs (with
/// their snapshot ids and the commits that introduced them), params and code commit, and the
/// same for every input another stage produced.
public struct LineageNode: Codable, Sendable {
    public var path: String
    public var snapshot: String?
    /// The commit where this snapshot first appeared in the history of REV.
    public var commit: String?
    public var stage: String?
    public var command: [String]?
    public var params: [String: String]?
    public var inputs: [LineageNode]
}

/// `mlv lineage`: the chain of runs behind a path, read from committed run records.
public struct Lineage {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv lineage PATH [--rev REV]`.
    public func lineage(_ input: String, rev: String?) throws -> LineageNode {
        let path = try ws.userPath(input)
        let commit = try ws.resolve(rev ?? "HEAD")
        guard let cfgBytes = try ws.git.blob(at: Config.fileName, in: commit) else { throw MLVError.pathNotInRevision(path: path, rev: rev ?? "HEAD") }
        let cfg = try Config.parse(cfgBytes)
        let pointers = Dictionary(try ws.targets(at: commit).map { ($0.path, $0.pointer) }, uniquingKeysWith: { a, _ in a })
        let history = try ws.git.history(from: commit)
        var introduced: [String: String] = [:]      // "path snapshot" -> commit, filled lazily
        func firstCommit(_ p: String, _ snapshot: String) throws -> String? {
            let key = p + " " + snapshot
            if let c = introduced[key] { return c }
            // Oldest commit in REV's history whose pointer for p holds this snapshot.
            var found: String? = nil
            for c in history {
                guard let bytes = try ws.git.blob(at: Pointer.pointerPath(for: p), in: c, limit: Pointer.maxBytes),
                      let ptr = try? Pointer(parsing: bytes, path: p) else { continue }
                if ptr.snapshot?.hex == snapshot { found = c.hex } else if found != nil { break }
            }
            introduced[key] = found
            return found
        }
        // Each (path, snapshot) is expanded once: a later mention shows the node without its
        // inputs again. Run records come from the repository, and one whose outputs are its
        // own inputs (a cycle), or shared inputs at every level, would otherwise expand
        // without end.
        var expanded = Set<String>()
        func node(_ p: String, _ snapshot: String?, depth: Int) throws -> LineageNode {
            let snap = snapshot ?? pointers[p]?.snapshot?.hex
            var n = LineageNode(path: p, snapshot: snap, commit: try snap.flatMap { try firstCommit(p, $0) }, inputs: [])
            guard expanded.insert(p + " " + (snap ?? "-")).inserted else { return n }
            guard depth < 32, let (name, _) = cfg.stages.first(where: { $0.value.outs.contains(p) || $0.value.metrics.contains(p) }),
                  let bytes = try ws.git.blob(at: "\(Workspace.runsDir)/\(name).json", in: commit) else { return n }
            let record = try RunRecord.parse(bytes, stage: name, rev: rev ?? "HEAD")
            n.stage = name
            n.command = record.command
            n.params = record.params
            for (dep, id) in record.inputs.sorted(by: { $0.key < $1.key }) {
                n.inputs.append(try node(dep, id, depth: depth + 1))
            }
            return n
        }
        guard pointers[path] != nil || cfg.stages.values.contains(where: { $0.outs.contains(path) || $0.metrics.contains(path) }) else {
            throw MLVError.pathNotInRevision(path: path, rev: rev ?? "HEAD")
        }
        return try node(path, nil, depth: 0)
    }
}
