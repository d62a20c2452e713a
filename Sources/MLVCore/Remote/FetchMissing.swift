// Fetching what a command reads: `diff`, `show`, `ls`, `metrics`, `params diff` and the
// diff driver read snapshots of commits a fresh clone never fetched (`mlv pull` brings only
// what HEAD needs). They fetch exactly the snapshots of the revisions and paths asked that
// this store lacks, from the default remote, through `Fetch` (same verification), and say
// the exact command to run when they may not (--offline, no remote). Nothing is fetched,
// and nothing printed, when the store has it all. The operation is `FetchMissing`; the
// transfer is `Fetch`'s.
import MLVSystem
import MLVGit
import MLVStore

/// A snapshot a command needs: its id, the target naming it and the revision it was asked at
/// (nil: the working tree's pointer, which `mlv fetch` without --rev covers).
public struct NeededSnapshot {
    public var id: ObjectID
    public var path: String
    public var rev: String?
    var pointer: Pointer

    public init(id: ObjectID, path: String, rev: String?, pointer: Pointer) {
        self.id = id
        self.path = path
        self.rev = rev
        self.pointer = pointer
    }

    /// "HEAD~2", or "the working tree".
    public var label: String { rev ?? "the working tree" }
}

/// What a reading command needs and this store lacks, fetched (or named in the error).
public struct FetchMissing {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// The snapshots the targets at `revs` pin, only targets at or below (or containing) one
    /// of `paths` and of `kinds` when given. "HEAD" before the first commit pins nothing.
    /// A path no target matches is left to the command to report (its own error names it).
    /// `pathsFromRoot`: the paths are relative to the repository root (`show REV:PATH`, as
    /// git's), not to the working directory.
    public func needed(revs: [String], paths: [String] = [], pathsFromRoot: Bool = false,
                       kinds: Set<TargetKind>? = nil) throws -> [NeededSnapshot] {
        let wanted = try paths.map { try pathsFromRoot ? RepoPath.fromUser($0, cwd: ws.root, root: ws.root) : ws.userPath($0) }
        func selected(_ t: String) -> Bool {
            wanted.isEmpty || wanted.contains { RepoPath.isWithin(t, $0) || RepoPath.isWithin($0, t) }
        }
        var out: [NeededSnapshot] = []
        var done = Set<String>()
        for rev in revs where done.insert(rev).inserted {
            if rev == "HEAD", try ws.git.head() == nil { continue }
            for (t, p) in try ws.targets(at: ws.resolve(rev)) where selected(t) && (kinds?.contains(p.kind) ?? true) {
                if let s = p.snapshot { out.append(NeededSnapshot(id: s, path: t, rev: rev, pointer: p)) }
            }
        }
        return out
    }

    /// Those of `needed` whose snapshot is not wholly in the local store (its tree, every
    /// tree and manifest below, every chunk; with `treesOnly`, a folder's trees, and nothing
    /// of a file).
    public func incomplete(_ needed: [NeededSnapshot], treesOnly: Bool = false) throws -> [NeededSnapshot] {
        let store = try ws.store()
        var whole = Set<ObjectID>(), partial = Set<ObjectID>()
        return try needed.filter { n in
            if whole.contains(n.id) { return false }
            if partial.contains(n.id) { return true }
            if treesOnly && n.pointer.type != .dir { return false }
            // The walk stops at the first object this store lacks.
            struct Lacking: Error {}
            do {
                _ = try store.walk(from: [n.id], treesOnly: treesOnly, lookUpChunks: true) { _ in throw Lacking() }
            } catch is Lacking {
                partial.insert(n.id)
                return true
            }
            whole.insert(n.id)
            return false
        }
    }

    /// Makes sure the store holds what `needed` names: returns nil when it does (nothing
    /// fetched), else fetches the missing snapshots from the default remote, verified as
    /// `mlv fetch` verifies, and returns what was transferred and what was missing. With
    /// `offline`, or without a remote, throws `RemoteError.notFetched` naming the command
    /// that brings them: `fix` gives it for the missing snapshots (see `hint`).
    public func run(_ needed: [NeededSnapshot], offline: Bool, treesOnly: Bool = false,
                    fix: ([NeededSnapshot]) -> String) throws -> (fetched: TransferResult, missing: [NeededSnapshot])? {
        let missing = try incomplete(needed, treesOnly: treesOnly)
        guard !missing.isEmpty else { return nil }
        if offline { throw Self.notFetched(missing, fix: "\(fix(missing)) brings it (--offline forbids fetching here)") }
        let r: RemoteStore
        do { r = try ws.remote(nil) } catch RemoteError.noRemote {
            throw Self.notFetched(missing, fix: "no remote is configured: add the one holding it with `mlv remote add origin URL`, then run \(fix(missing))")
        }
        var byID: [ObjectID: NeededSnapshot] = [:]
        for m in missing where byID[m.id] == nil { byID[m.id] = m }
        let result = try Fetch(ws).run(byID.values.sorted { ($0.path, $0.label) < ($1.path, $1.label) }.map { ($0.id, $0.path, $0.pointer, $0.rev.flatMap { try? ws.resolve($0) }) }, from: r, treesOnly: treesOnly)
        return (result, missing)
    }

    /// `mlv diff`, `show`, `ls`, `metrics`, `params diff`: the data of `revs` (and `paths`,
    /// `kinds`) this store lacks, fetched; the hint names `mlv fetch --rev REV… [-- PATH…]`.
    public func run(revs: [String], paths: [String] = [], pathsFromRoot: Bool = false, kinds: Set<TargetKind>? = nil,
                    treesOnly: Bool = false, offline: Bool) throws -> (fetched: TransferResult, missing: [NeededSnapshot])? {
        try run(needed(revs: revs, paths: paths, pathsFromRoot: pathsFromRoot, kinds: kinds),
                offline: offline, treesOnly: treesOnly) {
            Self.hint($0, paths: paths)
        }
    }

    /// The error for snapshots a command needs and may not fetch.
    public static func notFetched(_ missing: [NeededSnapshot], fix: String) -> RemoteError {
        .notFetched(what: notFetchedWhat(missing), fix: fix)
    }

    static func notFetchedWhat(_ missing: [NeededSnapshot]) -> String {
        // "a.csv at HEAD~2 and HEAD~1, b.csv at HEAD~1": targets in the order met, with
        // the revisions each lacks; past three targets, a count.
        var byPath: [(path: String, revs: [String])] = []
        for m in missing {
            if let i = byPath.firstIndex(where: { $0.path == m.path }) {
                if !byPath[i].revs.contains(m.label) { byPath[i].revs.append(m.label) }
            } else {
                byPath.append((m.path, [m.label]))
            }
        }
        return byPath.prefix(3).map { "\($0.path) at \($0.revs.joined(separator: " and "))" }.joined(separator: ", ")
            + (byPath.count > 3 ? " and \(byPath.count - 3) more target\(byPath.count == 4 ? "" : "s")" : "")
    }

    /// "`mlv fetch --rev A [--rev B] [-- PATH…]`": the command bringing the missing snapshots'
    /// revisions (only the paths the user asked for, as typed, when any); the working tree's
    /// pointers need `mlv fetch` without --rev.
    public static func hint(_ missing: [NeededSnapshot], paths: [String]) -> String {
        var revs: [String] = []
        for m in missing { if let r = m.rev, !revs.contains(r) { revs.append(r) } }
        let tail = paths.isEmpty ? "" : " -- " + paths.map(shellQuote).joined(separator: " ")
        var commands: [String] = []
        if !revs.isEmpty { commands.append("`mlv fetch " + revs.map { "--rev \(quoteRev($0))" }.joined(separator: " ") + tail + "`") }
        if missing.contains(where: { $0.rev == nil }) { commands.append("`mlv fetch\(tail)`") }
        return commands.joined(separator: " and ")
    }

    /// A revision as typed, quoted for the shell only when it must be: `HEAD~2` and `v1.0^`
    /// are safe unquoted (a `~` expands only at the start of a word).
    static func quoteRev(_ r: String) -> String {
        if let f = r.first, f != "~", r.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,~^".contains($0) }) { return r }
        return shellQuote(r)
    }

    /// `mlv show REV:PATH`: the trees down to PATH (a target, or a file inside a folder
    /// target), then that one file's data, not the rest of its folder.
    public func run(showing rev: String, path: String, offline: Bool) throws -> (fetched: TransferResult, missing: [NeededSnapshot])? {
        let hint = { (m: [NeededSnapshot]) in Self.hint(m, paths: [path]) }
        let trees = try run(needed(revs: [rev], paths: [path], pathsFromRoot: true),
                            offline: offline, treesOnly: true, fix: hint)
        // A path naming nothing, or a folder, is left to `show`'s own error.
        guard let e = try? ws.storedEntry(rev: rev, path: path), e.kind == .file else { return trees }
        var p = Pointer(kind: .dataset, type: .file)
        p.snapshot = e.id
        p.size = e.size
        let file = try run([NeededSnapshot(id: e.id, path: try RepoPath.fromUser(path, cwd: ws.root, root: ws.root), rev: rev, pointer: p)],
                           offline: offline, fix: hint)
        switch (trees, file) {
        case (nil, let x), (let x, nil): return x
        case let (t?, f?):
            var sum = f.fetched
            sum.packs += t.fetched.packs
            sum.bytes += t.fetched.bytes
            return (sum, t.missing + f.missing)
        }
    }

    /// `mlv diff-driver`: the snapshot a pointer file names (git passes a copy, so no
    /// revision is known), fetched when missing. Returns why there is no content to
    /// summarize, or nil when the store has it all: git's diff must not fail for it.
    func forSummary(_ p: Pointer, id: ObjectID, name: String, offline: Bool) throws -> String? {
        let n = NeededSnapshot(id: id, path: name, rev: "the commit holding it", pointer: p)
        do {
            _ = try run([n], offline: offline) { _ in "`mlv fetch --rev REV` (that commit)" }
            return nil
        } catch let e as RemoteError {
            return "\(e)"
        }
    }
}
