import MLVSystem
import Glibc
import MLVGit
import MLVStore

public struct CheckoutResult: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var path: String
        public var action: String     // updated, unchanged, removed, restored, untracked, kept
        public var snapshot: String?
    }
    public struct Saved: Codable, Sendable {
        public var path: String
        public var snapshot: String
        public var restore: String    // the command that brings it back
    }
    public var commit: String?
    public var branch: String?
    /// With --force: the stash commit holding uncommitted git changes (`git stash pop`).
    public var stash: String?
    public var targets: [Item] = []
    public var saved: [Saved] = []
    /// The commit of an interrupted checkout that this one completed first.
    public var completed: String?
    /// Things done differently than asked, each one line (shown on stderr by the CLI).
    public var warnings: [String] = []
    public var filesWritten = 0
    public var bytesWritten: UInt64 = 0
    public var bytesReused: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case commit, branch, stash, targets, saved, warnings, completed
        case filesWritten = "files_written"
        case bytesWritten = "bytes_written"
        case bytesReused = "bytes_reused"
    }
}

extension Workspace {
    /// `mlv checkout [REV] [-- PATH...]`, or `--snapshot ID -- PATH`.
    ///
    /// Safety rule: working data is overwritten or removed only when its content is already
    /// recorded: it equals the pointer, or what mlv last wrote or committed there. Anything
    /// else is uncommitted work: refused, or with `force` saved into the store first.
    ///
    /// A switch to another commit is a transaction (see CheckoutJournal): one that was
    /// interrupted is completed first, by any `mlv checkout`.
    public func checkout(rev: String?, paths: [String], force: Bool, snapshot: String?,
                         waiting: @escaping (String) -> Void) throws -> CheckoutResult {
        do {
            return try checkoutJournaled(rev: rev, paths: paths, force: force, snapshot: snapshot, waiting: waiting)
        } catch StoreError.missingObject(let id, let type) {
            // Data a fresh clone never fetched: name what brings it. `mlv pull` fetches only
            // the current pointers' data, so it helps only a checkout without REV.
            guard snapshot == nil else { throw StoreError.missingObject(id, type: type) }
            let needed: [NeededSnapshot]
            if let rev {
                needed = try neededSnapshots(revs: [rev], paths: paths)
            } else {
                let wanted = try paths.map { try userPath($0) }
                needed = try targets().compactMap { t, p in
                    guard let s = p.snapshot, wanted.isEmpty || wanted.contains(where: { RepoPath.isWithin(t, $0) || RepoPath.isWithin($0, t) })
                    else { return nil }
                    return NeededSnapshot(id: s, path: t, rev: nil, pointer: p)
                }
            }
            let missing = try incomplete(needed)
            guard !missing.isEmpty else { throw StoreError.missingObject(id, type: type) }
            let args = paths.isEmpty ? "" : " -- " + paths.map(shellQuote).joined(separator: " ")
            throw notFetched(missing, fix: rev.map { "run \(Workspace.fetchHint(missing, paths: paths)), then `mlv checkout \(Workspace.quoteRev($0))\(args)` again" }
                                      ?? "run `mlv pull\(args)` (fetch, then checkout)")
        }
    }

    private func checkoutJournaled(rev: String?, paths: [String], force: Bool, snapshot: String?,
                                   waiting: @escaping (String) -> Void) throws -> CheckoutResult {
        let lock = try self.lock("checkout", waiting: waiting)
        defer { withExtendedLifetime(lock) {} }
        guard let journal = try CheckoutJournal.read(self) else {
            return try checkoutLocked(rev: rev, paths: paths, force: force, snapshot: snapshot)
        }
        // HEAD moved by other means since (a `git checkout` of the user's, which the hooks
        // follow with `mlv checkout`): that choice stands, the old switch is not resumed.
        if try !journal.isCurrent(self) {
            try journal.remove(self)
            return try checkoutLocked(rev: rev, paths: paths, force: force, snapshot: snapshot)
        }
        // The interrupted switch's checks ran before it changed anything (uncommitted work was
        // refused or saved then), so finishing it is what the user asked for back then; work
        // edited since is refused as any checkout refuses it, or saved with --force.
        var done = try checkoutLocked(rev: journal.branch ?? journal.to.hex, paths: [], force: force, snapshot: nil, completing: journal)
        done.completed = journal.to.hex
        if rev == nil && paths.isEmpty && snapshot == nil { return done }
        var result = try checkoutLocked(rev: rev, paths: paths, force: force, snapshot: snapshot)
        result.completed = journal.to.hex
        return result
    }

    /// `completing`: the journal of a switch this finishes, whose earlier attempt may have moved
    /// pointers already; its journal stays until the data is in place, whatever fails.
    private func checkoutLocked(rev: String?, paths: [String], force: Bool, snapshot: String?,
                                completing: CheckoutJournal? = nil) throws -> CheckoutResult {
        let store = try store()
        var result = CheckoutResult()
        let snap = Snapshotter(ws: self, cache: loadStatCache(), writer: nil)
        snap.removesTempFiles = true
        let restorer = try Restorer(store: store)
        restorer.progress = progress
        restorer.tree = tree
        var saveWriter: StoreWriter? = nil
        defer { restorer.abandon() }

        // Saves uncommitted work at `rel` before it is overwritten (--force).
        func save(_ rel: String, kind: TargetKind) throws {
            let w = try saveWriter ?? store.writer(compressionLevel: Int32(config.compressionLevel))
            saveWriter = w
            let saver = Snapshotter(ws: self, cache: snap.cache, writer: w)
            guard let s = try saver.snapshot(rel, kind: kind, previous: nil) else { return }
            try w.commit()
            try appendSavedLog(rel, s.id)
            result.saved.append(.init(path: rel, snapshot: s.id.hex,
                                      restore: "mlv checkout --snapshot \(s.id.hex) -- \(shellQuote(rel))"))
        }

        if let idText = snapshot {
            guard let id = ObjectID(hex: idText) else {
                throw MLVError.invalidArgument("--snapshot takes a 64-digit snapshot id, as printed by `mlv checkout --force` or `mlv log`")
            }
            guard paths.count == 1 else { throw MLVError.invalidArgument("--snapshot restores exactly one path: mlv checkout --snapshot ID -- PATH") }
            let rel = try userPath(paths[0])
            guard let loc = try store.location(of: id), loc.type != .chunk else { throw StoreError.missingObject(id, type: .tree) }
            let entry = try checkBeforePlacing(TreeEntry(name: FS.basename(rel), kind: loc.type == .tree ? .directory : .file,
                                                         size: 0, files: 0, id: id), at: rel, declared: false)
            // The safety rule: what is there may be replaced when the store holds it.
            var savedOnly: Set<ObjectID>? = nil
            if let w = try snap.snapshot(rel, kind: .dataset, previous: nil), w.id != id, try !replaceable(w.id, saved: &savedOnly), !force {
                throw MLVError.dataModified([rel])
            } else if force, FS.exists(absolute(rel)) {
                try save(rel, kind: .dataset)
            }
            try place(entry, at: rel, restorer: restorer, snap: snap)
            result.targets.append(.init(path: rel, action: "restored", snapshot: id.hex))
            return try finish(result, restorer, snap, synced: [:])
        }

        if !paths.isEmpty {
            let source = try rev.map { try targets(at: resolve($0)) } ?? targets()
            let current = try targets()
            var modified: [String] = []
            var savedOnly: Set<ObjectID>? = nil
            var plan: [(String, TreeEntry, TargetKind)] = []
            // A path inside a target names that part of it; a folder holding targets names
            // each of them (`mlv checkout -- models/`).
            var wanted: [String] = []
            for input in paths {
                let rel = try userPath(input)
                if source.contains(where: { RepoPath.isWithin(rel, $0.path) }) { wanted.append(rel); continue }
                let inside = source.filter { RepoPath.isWithin($0.path, rel) }.map(\.path)
                guard !inside.isEmpty else {
                    if let r = rev { throw MLVError.pathNotInRevision(path: rel, rev: r) }
                    throw MLVError.notTracked(rel)
                }
                wanted += inside
            }
            for rel in wanted {
                guard let t = source.first(where: { RepoPath.isWithin(rel, $0.path) }) else { continue }
                guard let root = t.pointer.snapshot else { throw MLVError.invalidArgument("\(t.path) has no committed data yet; run `mlv commit` first") }
                let rootEntry = TreeEntry(name: FS.basename(t.path), kind: t.pointer.type == .dir ? .directory : .file,
                                          executable: t.pointer.executable, size: t.pointer.size, files: t.pointer.files, id: root)
                guard let entry = try self.entry(in: rootEntry, at: String(rel.dropFirst(t.path.count)).split(separator: "/").map(String.init)) else {
                    throw MLVError.pathNotInRevision(path: rel, rev: rev ?? "HEAD")
                }
                _ = try checkBeforePlacing(entry, at: rel, declared: true)
                // Recorded versions of this path: the current pointer's and mlv's last write.
                var known: Set<ObjectID> = [entry.id]
                let sub = String(rel.dropFirst(t.path.count)).split(separator: "/").map(String.init)
                for base in [current.first(where: { $0.path == t.path })?.pointer.snapshot, snap.cache.synced[t.path]].compactMap({ $0 }) {
                    let be = TreeEntry(name: "", kind: t.pointer.type == .dir ? .directory : .file, size: 0, files: 0, id: base)
                    if let e = try? self.entry(in: be, at: sub) { known.insert(e.id) }
                }
                if let w = try snap.snapshot(rel, kind: t.pointer.kind, previous: nil), !known.contains(w.id),
                   try !replaceable(w.id, saved: &savedOnly) {
                    modified.append(rel)
                }
                plan.append((rel, entry, t.pointer.kind))
            }
            if !modified.isEmpty && !force { throw MLVError.dataModified(modified) }
            for (rel, _, kind) in plan where modified.contains(rel) { try save(rel, kind: kind) }
            for (rel, entry, _) in plan {
                try place(entry, at: rel, restorer: restorer, snap: snap)
                result.targets.append(.init(path: rel, action: "restored", snapshot: entry.id.hex))
            }
            return try finish(result, restorer, snap, synced: [:])
        }

        // Whole-tree checkout: to REV (moving HEAD), or to the current pointers.
        let commit = try rev.map { try resolve($0) }
        // The paths the switch rewrites: those that differ between HEAD and REV, or for an
        // interrupted switch being completed, between its start and REV (HEAD may have moved
        // already, the data not).
        var switched: Set<String> = []
        if let c = commit {
            // git writes and removes the paths that differ between the commits, following
            // links on the way (libgit2 does not look for them): a link mlv restored inside a
            // folder target (`d/s -> ../../victim`) would carry `d/s/config` outside the tree.
            // Every such path is checked before anything moves; a link git tracks itself is
            // among the changed paths and replaced by git, so only foreign links stop it.
            let changed = try git.changedPaths(from: git.head(), to: c)
            let changedSet = Set(changed)
            switched = try completing.map { Set(try git.changedPaths(from: $0.from, to: c)) } ?? changedSet
            for p in changed {
                do { try tree.checkParents(absolute(p)) } catch MLVError.symlinkInPath(let path, let link) where !changedSet.contains(link) {
                    throw MLVError.checkoutThroughLink(path: path, link: link, rev: rev ?? c.short)
                } catch MLVError.symlinkInPath, MLVError.fileInPath {
                    continue   // git replaces what it tracks itself (a link, a file becoming a folder)
                }
            }
        }
        if commit != nil {
            // Cheap check first: no data is read when git would refuse anyway. With --force,
            // uncommitted code (and pointer) edits are stashed, not thrown away.
            let code = try git.changes(against: commit!).map(\.path)
            if !code.isEmpty && !force { throw MLVError.codeModified(code) }
            if !code.isEmpty, let id = try git.stash(message: "mlv checkout --force \(rev!)",
                                                     signature: git.signature(now: realtimeNanoseconds() / 1_000_000_000)) {
                result.stash = id.hex
            }
        }
        let current = try targets()
        var states: [String: WorkingState] = [:]
        for (path, p) in current { states[path] = try workingState(path, p, snap) }
        let desired = try commit.map { try pointersAfterSwitch(to: $0, current: current, changed: switched) } ?? current
        let desiredByPath = Dictionary(desired.map { ($0.path, $0.pointer) }, uniquingKeysWith: { a, _ in a })
        // git's rule for a switch: what is the same in both commits is left alone, local change
        // and all. A target whose pointer the switch keeps, with data edited (or deleted) here,
        // keeps that edit: not refused, not overwritten, still `modified` in `mlv status`.
        // Data that is only behind its pointer (written for another one) is brought in line,
        // data never checked out here is written, and --force overwrites as for any target
        // (saving the edit first), as git's stash does for code.
        var kept: Set<String> = []
        if commit != nil && !force {
            for (path, p) in current where !switched.contains(Pointer.pointerPath(for: path)) && desiredByPath[path] == p {
                if let st = states[path]?.state, [.modified, .diverged, .added, .deleted].contains(st) { kept.insert(path) }
            }
        }
        // Every snapshot about to be written is checked before anything moves (limits, totals).
        for (path, p) in desired where !kept.contains(path) {
            guard let s = p.snapshot, !(states[path]?.working?.id == s && states[path]?.working?.executable == p.executable) else { continue }
            _ = try checkBeforePlacing(TreeEntry(name: FS.basename(path), kind: p.type == .dir ? .directory : .file,
                                             executable: p.executable, size: p.size, files: p.files, id: s), at: path, declared: true)
        }

        // Uncommitted work that this checkout would overwrite or remove.
        var modified: [(String, TargetKind)] = []
        var gitTracked: Set<String>? = nil
        var savedOnly: Set<ObjectID>? = nil
        func recorded(_ path: String, _ w: WorkingSnapshot) throws -> Bool {
            if try replaceable(w.id, saved: &savedOnly) { return true }    // recorded before (another commit)
            // A folder --force saved and --snapshot brought back is work, whatever its files.
            guard w.type == .dir, !(savedOnly ?? savedSnapshots()).contains(w.id) else { return false }
            // A folder whose every file is recorded somewhere (the store, or git itself)
            // loses nothing even if the folder as a whole was never committed.
            if gitTracked == nil { gitTracked = Set(try git.indexPaths(endingWith: "")) }
            for (rel, e) in snap.cache.entries where RepoPath.isWithin(rel, path) && e.manifest != .zero {
                if try !store.contains(e.manifest) && !gitTracked!.contains(rel) { return false }
            }
            return true
        }
        for (path, p) in current where !kept.contains(path) {
            guard let w = states[path]?.working else { continue }
            let want = desiredByPath[path]?.snapshot
            if want == w.id { continue }
            if w.id == p.snapshot || w.id == snap.cache.synced[path] { continue }
            if try recorded(path, w) { continue }
            modified.append((path, p.kind))
        }
        // Untracked files where a target is about to be written.
        for (path, p) in desired where desiredByPath[path] != nil && states[path] == nil {
            if let w = try snap.snapshot(path, kind: p.kind, previous: nil), w.id != p.snapshot,
               w.id != snap.cache.synced[path], try !recorded(path, w) {
                modified.append((path, p.kind))
            }
        }
        if !modified.isEmpty && !force { throw MLVError.dataModified(modified.map(\.0)) }
        for (path, kind) in modified { try save(path, kind: kind) }

        // The new data is written under temporary names first: if the store lacks or has
        // damaged any of it, nothing has moved yet, neither HEAD nor a single file.
        var synced: [String: ObjectID] = [:]
        for (path, p) in desired {
            if kept.contains(path) {
                // What mlv last wrote there (`synced`) stays as it was: status still sees the edit.
                result.targets.append(.init(path: path, action: "kept", snapshot: p.snapshot?.hex))
                continue
            }
            guard let s = p.snapshot else { continue }
            if states[path]?.working?.id == s && states[path]?.working?.executable == p.executable {
                result.targets.append(.init(path: path, action: "unchanged", snapshot: s.hex))
                synced[path] = s
                continue
            }
            let entry = TreeEntry(name: FS.basename(path), kind: p.type == .dir ? .directory : .file,
                                  executable: p.executable, size: p.size, files: p.files, id: s)
            try place(entry, at: path, restorer: restorer, snap: snap)
            result.targets.append(.init(path: path, action: "updated", snapshot: s.hex))
            synced[path] = s
        }
        var journal: CheckoutJournal? = nil
        if let c = commit {
            let branch = git.isLocalBranch(rev!) ? rev! : nil
            // From here on pointers, code and HEAD move: journaled until the data is in place.
            let j = CheckoutJournal(from: try git.head(), fromBranch: git.currentBranch(), to: c, branch: branch)
            try j.write(self)
            journal = j
            do {
                try git.checkout(c, branch: branch, force: force,
                                 atomically: { $0 == Config.fileName || $0.hasSuffix(Pointer.suffix) })
            } catch let e as GitError where e.isConflict {
                // git refused (a file in the way, say) while planning, before writing: nothing
                // moved, so there is no switch to complete; the journal goes with the attempt.
                if completing == nil, try git.head() == j.from { try j.remove(self) }
                throw e
            }
            result.commit = c.hex
            result.branch = branch
        }
        // Targets the new commit no longer tracks: their data goes, as git's files would,
        // unless something the new commit has lives there (a target inside it, or files git
        // itself now tracks): then it stays, and nothing of the new commit is touched.
        let gitPaths = try git.indexPaths(endingWith: "")
        for (path, _) in current where desiredByPath[path] == nil {
            let overlaps = desired.contains { RepoPath.isWithin($0.path, path) || RepoPath.isWithin(path, $0.path) }
                || gitPaths.contains { RepoPath.isWithin($0, path) }
            if !overlaps && FS.exists(absolute(path)) { restorer.remove(absolute(path)) }
            snap.cache.forget(target: path)
            result.targets.append(.init(path: path, action: overlaps ? "untracked" : "removed", snapshot: nil))
        }
        let done = try finish(result, restorer, snap, synced: synced)
        try journal?.remove(self)
        return done
    }

    /// The pointers a switch from HEAD to `commit` leaves in the working tree. git rewrites
    /// only the pointer files that differ between the two commits (`changed`); one the same in
    /// both keeps its local state, as git keeps any such file: a pointer changed and not yet
    /// committed (`mlv commit --no-git`), a target tracked since HEAD, one untracked since.
    /// Its data follows that pointer, not REV's (which would leave data and pointer apart).
    func pointersAfterSwitch(to commit: GitOID, current: [(path: String, pointer: Pointer)],
                             changed: Set<String>) throws -> [(path: String, pointer: Pointer)] {
        let rewritten = { (t: String) in changed.contains(Pointer.pointerPath(for: t)) }
        let out = (try targets(at: commit).filter { rewritten($0.path) } + current.filter { !rewritten($0.path) })
            .sorted { $0.path < $1.path }
        try Workspace.checkNoNesting(out.map(\.path), context: "both tracked after the switch to \(commit.short)")
        return out
    }

    private func finish(_ r: CheckoutResult, _ restorer: Restorer, _ snap: Snapshotter,
                        synced: [String: ObjectID]) throws -> CheckoutResult {
        var result = r
        let written = try restorer.finish()
        for (rel, id) in written {
            if let st = FS.lstat(absolute(rel)) { snap.cache.record(rel, FileStat(st), manifest: id) }
        }
        for (path, id) in synced { snap.cache.synced[path] = id }
        var cache = snap.cache
        try saveStatCache(&cache)
        for rel in restorer.skippedRemovals {
            result.warnings.append("\(rel) was not removed: a folder above it is now a symlink, and mlv does not remove anything through links")
        }
        result.filesWritten = restorer.filesWritten
        result.bytesWritten = restorer.bytesWritten
        result.bytesReused = restorer.bytesReused
        return result
    }

    /// Follows `components` down from a snapshot's root entry.
    func entry(in root: TreeEntry, at components: [String]) throws -> TreeEntry? {
        var e = root
        for c in components {
            guard e.kind == .directory else { return nil }
            guard let next = try store().tree(e.id).entries.first(where: { $0.name == c }) else { return nil }
            e = next
        }
        return e
    }

    /// Writes `entry` at `rel`, touching only files whose content differs.
    func place(_ entry: TreeEntry, at rel: String, restorer: Restorer, snap: Snapshotter) throws {
        // The cache no longer vouches for any target this touches; the next full pass will.
        for t in snap.cache.verified.keys where RepoPath.isWithin(rel, t) || RepoPath.isWithin(t, rel) {
            snap.cache.verified[t] = nil
        }
        try tree.makeParents(absolute(rel))
        let abs = absolute(rel)
        let st = FS.lstat(abs)
        switch entry.kind {
        case .file:
            var reuse: Restorer.Reuse? = nil
            if let st, st.st_mode & S_IFMT == S_IFREG {
                let fs = FileStat(st)
                let known = snap.cache.lookup(rel, fs)
                if known == entry.id && fs.isExecutable == entry.executable { return }
                if let k = known, let m = try? store().manifest(k) { reuse = Restorer.Reuse(path: abs, manifest: m, stat: fs) }
            }
            try restorer.writeFile(entry.id, to: abs, rel: rel, executable: entry.executable, reuse: reuse, size: entry.size)
        case .symlink:
            if let st, st.st_mode & S_IFMT == S_IFLNK, let t = try? readLink(abs),
               ObjectID.hash(t) == entry.id { return }
            try restorer.writeSymlink(entry.id, to: abs, rel: rel)
        case .directory:
            if let st, st.st_mode & S_IFMT != S_IFDIR {
                // A file where the folder goes: the folder is built under a temporary name and
                // swapped in by finish(), so nothing is removed before the new data is whole.
                let tmp = FS.tempPath(for: abs)
                try FS.makeDirectories(tmp)
                restorer.renameDirectory(tmp, to: abs)
                let tree = try store().tree(entry.id)
                for e in tree.entries {
                    try placeFresh(e, at: FS.join(tmp, e.name), rel: rel + "/" + e.name, restorer: restorer)
                }
                return
            }
            if !FS.isDirectory(abs) { try FS.makeDirectories(abs) }
            let tree = try store().tree(entry.id)
            let wanted = Set(tree.entries.map(\.name))
            for name in try FS.list(abs) where !wanted.contains(name) {
                restorer.remove(FS.join(abs, name))
                snap.cache.forget(target: rel + "/" + name)
            }
            for e in tree.entries { try place(e, at: rel + "/" + e.name, restorer: restorer, snap: snap) }
        }
    }

    /// Writes `entry` at `abs` where nothing exists yet (inside a folder being built).
    private func placeFresh(_ entry: TreeEntry, at abs: String, rel: String, restorer: Restorer) throws {
        switch entry.kind {
        case .file: try restorer.writeFile(entry.id, to: abs, rel: rel, executable: entry.executable, reuse: nil, direct: true, size: entry.size)
        case .symlink: try restorer.writeSymlink(entry.id, to: abs, rel: rel, direct: true)
        case .directory:
            try FS.makeDirectories(abs)
            for e in try store().tree(entry.id).entries {
                try placeFresh(e, at: FS.join(abs, e.name), rel: rel + "/" + e.name, restorer: restorer)
            }
        }
    }

    /// `.mlv/state/saved.log`: one line per version --force saved, `SECONDS ID PATH`, so it
    /// can be found again later (and gc keeps it).
    var savedLogPath: String { FS.join(mlvDir, "state/saved.log") }

    /// Appends to the saved log what --force saved.
    func appendSavedLog(_ rel: String, _ id: ObjectID) throws {
        let old = (try? FS.readAll(savedLogPath)) ?? []
        let line = "\(realtimeNanoseconds() / 1_000_000_000) \(id.hex) \(rel)\n"
        try FS.atomicWrite(old + Array(line.utf8), to: savedLogPath)
    }

    /// The snapshots the saved log names.
    func savedSnapshots() -> Set<ObjectID> {
        guard let log = try? FS.readAll(savedLogPath) else { return [] }
        var out = Set<ObjectID>()
        for line in String(decoding: log, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let id = ObjectID(hex: parts[1]) { out.insert(id) }
        }
        return out
    }

    /// Whether working content `id` may be replaced without saving it: the store holds it,
    /// and not only as a version --force saved (that one, brought back with --snapshot, is
    /// the user's uncommitted work again, and its id is all that would find it).
    func replaceable(_ id: ObjectID, saved: inout Set<ObjectID>?) throws -> Bool {
        guard try store().contains(id) else { return false }
        if saved == nil { saved = savedSnapshots() }
        return !saved!.contains(id)
    }
}
