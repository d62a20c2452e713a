// `mlv log`, `mlv show` and `mlv ls`: reading what the history recorded, never the working tree.
import MLVSystem
import Glibc
import MLVGit
import MLVStore

/// One commit of `mlv log`: the targets whose pointers it changed.
public struct LogCommit: Codable, Sendable {
    public var commit: String
    public var date: String          // ISO 8601 with the author's offset
    public var author: String
    public var message: String
    public var changes: [LogChange]
}

/// One target a commit changed.
public struct LogChange: Codable, Sendable {
    public var path: String
    public var kind: TargetKind
    public var change: ChangeKind
    public var snapshot: String?
    public var size: UInt64
    public var files: UInt64
    public var rows: UInt64?
    public var columns: UInt64?
}

public struct ListedFile: Codable, Sendable {
    /// What `mlv ls` lists: files and symlinks (folders are walked, not listed).
    public enum EntryType: String, Codable, Sendable { case file, symlink }

    public var path: String
    public var type: EntryType
    public var size: UInt64
    public var executable: Bool
    public var id: String
}

/// The recorded versions: `mlv log` (which commits changed which targets), `mlv show`
/// (a stored file's bytes) and `mlv ls` (the files of a snapshot).
public struct History {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv log`: commits that changed a target's pointer (or any target's), newest first;
    /// `limit` counts commits. A file ending in `.mlv` that is not a pointer, in any commit,
    /// is left out and named in `skipped` (as fsck and gc do), not an error for good.
    public func log(path: String?, limit: Int?, skipped: inout [String]) throws -> [LogCommit] {
        let target = try path.map { try ws.userPath($0) }
        // A path no pointer names, now or in the history walked, is a typo: an error, not
        // "no history".
        func unknown(_ found: [LogCommit]) throws -> Bool {
            guard let t = target, found.isEmpty else { return false }
            let all = try ws.targets().map(\.path)
            if all.contains(t) { return false }
            // A file inside a folder target is tracked, as part of it: say how to follow it.
            let e = Workspace.notATarget(t, targets: all) {
                "`mlv log` lists versions of whole targets: run `mlv log -- \($0)`, and `mlv diff REV1 REV2 -- \(shellQuote(t))` for what changed there"
            }
            if case .notTracked = e { return true }
            throw e
        }
        guard let head = try ws.git.head() else {
            if try unknown([]), let t = target { throw MLVError.notTracked(t) }
            return []
        }
        var out: [LogCommit] = []
        for c in try ws.git.history(from: head) {
            if let l = limit, out.count >= l { break }
            let info = try ws.git.commitInfo(c)
            let now = try pointers(at: c, only: target, skipped: &skipped)
            var ignored: [String] = []   // the parent's are reported when the walk gets there
            let parent = try info.parents.first.map { try pointers(at: $0, only: target, skipped: &ignored) } ?? [:]
            var changes: [LogChange] = []
            for key in Set(now.keys).union(parent.keys).sorted() {
                let a = parent[key], b = now[key]
                if a == b { continue }
                let p = b ?? a!
                let change: ChangeKind = a == nil ? .added : (b == nil ? .removed : .modified)
                changes.append(LogChange(path: key, kind: p.kind, change: change, snapshot: b?.snapshot?.hex,
                                         size: b?.size ?? 0, files: b?.files ?? 0, rows: b?.rows, columns: b?.columns))
            }
            if !changes.isEmpty {
                out.append(LogCommit(commit: c.hex, date: isoDate(info.author.time, info.author.offset),
                                     author: "\(info.author.name) <\(info.author.email)>", message: info.summary, changes: changes))
            }
        }
        if try unknown(out), let t = target, limit == nil { throw MLVError.notTracked(t) }
        return out
    }

    private func pointers(at c: GitOID, only target: String?, skipped: inout [String]) throws -> [String: Pointer] {
        if let t = target {
            let p = Pointer.pointerPath(for: t)
            guard let bytes = try ws.git.blob(at: p, in: c, limit: Pointer.maxBytes) else { return [:] }
            do { return [t: try Pointer(parsing: bytes, path: "\(p) at \(c.short)")] } catch let e as MLVError {
                skipped.append("\(e)")
                return [:]
            }
        }
        return Dictionary(try ws.readableTargets(at: c, skipped: &skipped).map { ($0.path, $0.pointer) }, uniquingKeysWith: { a, _ in a })
    }

    /// `mlv show REV:PATH`: streams a stored file to `fd` without touching the working tree.
    public func show(rev: String, path: String, to fd: Int32) throws {
        let e = try ws.storedEntry(rev: rev, path: path)
        guard e.kind == .file else {
            throw MLVError.invalidArgument("\(path) at \(rev) is a directory; list it with `mlv ls \(rev):\(path)`")
        }
        let out = FileHandleFD(fd: dup(fd), path: "standard output")
        let r = try Restorer(store: ws.store())
        let m = try ws.store().manifest(e.id)
        // The tree (or pointer) bounds what is written: a manifest describing more is refused.
        guard m.size == e.size else {
            throw ObjectError.corrupt(id: e.id, type: .file, why: "\(path) is listed with \(counted(e.size, "byte")), its manifest has \(m.size)")
        }
        try r.fill(out, m, reuse: nil)
    }

    /// `mlv ls REV[:PATH]`: the files of the snapshots at REV (all targets, or below PATH).
    public func list(rev: String, path: String?) throws -> [ListedFile] {
        var out: [ListedFile] = []
        // Iterative, with the snapshot's totals and nesting checked as it goes (TreeWalker):
        // a hostile tree stops the listing with an error instead of the stack or the memory.
        func walk(_ e: TreeEntry, _ rel: String, target: String) throws {
            var w = TreeWalker(store: try ws.store(), root: e, path: rel, target: target)
            while let item = try w.next() {
                let e = item.entry
                switch e.kind {
                case .file: out.append(ListedFile(path: item.path, type: .file, size: e.size, executable: e.executable, id: e.id.hex))
                case .symlink: out.append(ListedFile(path: item.path, type: .symlink, size: e.size, executable: false, id: e.id.hex))
                case .directory: break
                }
            }
        }
        if let p = path {
            let e = try ws.storedEntry(rev: rev, path: p)
            let rel = try RepoPath.fromUser(p, cwd: ws.root, root: ws.root)
            try walk(e, rel, target: rel)
        } else {
            let c = try ws.resolve(rev)
            for (t, p) in try ws.targets(at: c) {
                guard let s = p.snapshot else { continue }
                try walk(TreeEntry(name: t, kind: p.type == .dir ? .directory : .file, executable: p.executable,
                                   size: p.size, files: p.files, id: s), t, target: t)
            }
        }
        return out
    }
}

/// `2026-11-27T12:00:00+01:00` from seconds and a minute offset.
public func isoDate(_ t: Int64, _ offsetMinutes: Int32) -> String {
    let clampedOffset = max(-1440, min(1440, Int64(offsetMinutes)))
    var tt = time_t(max(-(1 << 40), min(1 << 40, t)) + clampedOffset * 60)
    var tm = tm()
    gmtime_r(&tt, &tm)
    let sign = offsetMinutes < 0 ? "-" : "+"
    let o = abs(Int(offsetMinutes))
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))\(sign)\(two(Int32(o / 60))):\(two(Int32(o % 60)))"
}
