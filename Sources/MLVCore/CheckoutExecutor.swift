// Carries out `mlv checkout`: gathers the facts a whole-tree switch is planned from
// (CheckoutPlanner), refuses or saves uncommitted work, writes the data under temporary
// names, moves pointers, code and HEAD under the journal, then renames the data into place.
// Also the two restore modes, which act on named paths only: `checkout [REV] -- PATH...`
// and `checkout --snapshot ID -- PATH`.
import MLVSystem
import MLVGit
import MLVStore

final class CheckoutExecutor: CheckoutWorld {
    let ws: Workspace
    let store: Store
    let snap: Snapshotter
    let restorer: Restorer
    private var result = CheckoutResult()
    private var saveWriter: StoreWriter?
    /// The saved log's snapshots, read when first needed.
    private var savedOnly: Set<ObjectID>?
    /// Every path in git's index, read when first needed.
    private var gitTracked: Set<String>?

    init(_ ws: Workspace) throws {
        self.ws = ws
        store = try ws.store()
        snap = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: nil)
        snap.removesTempFiles = true
        restorer = try Restorer(store: store)
        restorer.progress = ws.progress
        restorer.tree = ws.tree
    }

    /// Removes what was written under temporary names and not yet renamed into place.
    func abandon() { restorer.abandon() }

    /// Saves uncommitted work at `rel` before it is overwritten (--force).
    private func save(_ rel: String, kind: TargetKind) throws {
        let w = try saveWriter ?? store.writer(compressionLevel: Int32(ws.config.compressionLevel))
        saveWriter = w
        let saver = Snapshotter(ws: ws, cache: snap.cache, writer: w)
        guard let s = try saver.snapshot(rel, kind: kind, previous: nil) else { return }
        try w.commit()
        try ws.appendSavedLog(rel, s.id)
        result.saved.append(.init(path: rel, snapshot: s.id.hex,
                                  restore: "mlv checkout --snapshot \(s.id.hex) -- \(shellQuote(rel))"))
    }

    // MARK: --snapshot ID -- PATH

    func restoreSnapshot(_ idText: String, paths: [String], force: Bool) throws -> CheckoutResult {
        guard let id = ObjectID(hex: idText) else {
            throw MLVError.invalidArgument("--snapshot takes a 64-digit snapshot id, as printed by `mlv checkout --force` or `mlv log`")
        }
        guard paths.count == 1 else { throw MLVError.invalidArgument("--snapshot restores exactly one path: mlv checkout --snapshot ID -- PATH") }
        let rel = try ws.userPath(paths[0])
        guard let loc = try store.location(of: id), loc.type != .chunk else { throw StoreError.missingObject(id, type: .tree) }
        let entry = try ws.checkBeforePlacing(TreeEntry(name: FS.basename(rel), kind: loc.type == .tree ? .directory : .file,
                                                        size: 0, files: 0, id: id), at: rel, declared: false)
        // The safety rule: what is there may be replaced when the store holds it.
        if let w = try snap.snapshot(rel, kind: .dataset, previous: nil), w.id != id, try !ws.replaceable(w.id, saved: &savedOnly), !force {
            throw MLVError.dataModified([rel])
        } else if force, FS.exists(ws.absolute(rel)) {
            try save(rel, kind: .dataset)
        }
        try ws.place(entry, at: rel, restorer: restorer, snap: snap)
        result.targets.append(.init(path: rel, action: .restored, snapshot: id.hex))
        return try finish(synced: [:])
    }

    // MARK: [REV] -- PATH...

    func restorePaths(_ paths: [String], rev: String?, force: Bool) throws -> CheckoutResult {
        let source = try rev.map { try ws.targets(at: ws.resolve($0)) } ?? ws.targets()
        let current = try ws.targets()
        var modified: [String] = []
        var plan: [(String, TreeEntry, TargetKind)] = []
        // A path inside a target names that part of it; a folder holding targets names
        // each of them (`mlv checkout -- models/`).
        var wanted: [String] = []
        for input in paths {
            let rel = try ws.userPath(input)
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
            let sub = String(rel.dropFirst(t.path.count)).split(separator: "/").map(String.init)
            guard let entry = try ws.entry(in: rootEntry, at: sub) else {
                throw MLVError.pathNotInRevision(path: rel, rev: rev ?? "HEAD")
            }
            _ = try ws.checkBeforePlacing(entry, at: rel, declared: true)
            // Recorded versions of this path: the current pointer's and mlv's last write.
            var known: Set<ObjectID> = [entry.id]
            for base in [current.first(where: { $0.path == t.path })?.pointer.snapshot, snap.cache.synced[t.path]].compactMap({ $0 }) {
                let be = TreeEntry(name: "", kind: t.pointer.type == .dir ? .directory : .file, size: 0, files: 0, id: base)
                if let e = try? ws.entry(in: be, at: sub) { known.insert(e.id) }
            }
            if let w = try snap.snapshot(rel, kind: t.pointer.kind, previous: nil), !known.contains(w.id),
               try !ws.replaceable(w.id, saved: &savedOnly) {
                modified.append(rel)
            }
            plan.append((rel, entry, t.pointer.kind))
        }
        if !modified.isEmpty && !force { throw MLVError.dataModified(modified) }
        for (rel, _, kind) in plan where modified.contains(rel) { try save(rel, kind: kind) }
        for (rel, entry, _) in plan {
            try ws.place(entry, at: rel, restorer: restorer, snap: snap)
            result.targets.append(.init(path: rel, action: .restored, snapshot: entry.id.hex))
        }
        return try finish(synced: [:])
    }

    // MARK: [REV]: the whole tree

    /// To REV (moving HEAD), or to the current pointers. `completing`: the journal of an
    /// interrupted switch this finishes.
    func switchTree(to rev: String?, force: Bool, completing: CheckoutJournal?) throws -> CheckoutResult {
        let git = ws.git
        let commit = try rev.map { try ws.resolve($0) }
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
                do { try ws.tree.checkParents(ws.absolute(p)) } catch MLVError.symlinkInPath(let path, let link) where !changedSet.contains(link) {
                    throw MLVError.checkoutThroughLink(path: path, link: link, rev: rev ?? c.short)
                } catch MLVError.symlinkInPath, MLVError.fileInPath {
                    continue   // git replaces what it tracks itself (a link, a file becoming a folder)
                }
            }
            // Cheap check first: no data is read when git would refuse anyway. With --force,
            // uncommitted code (and pointer) edits are stashed, not thrown away.
            let code = try git.changes(against: c).map(\.path)
            if !code.isEmpty && !force { throw MLVError.codeModified(code) }
            if !code.isEmpty, let id = try git.stash(message: "mlv checkout --force \(rev ?? c.hex)",
                                                     signature: git.signature(now: realtimeNanoseconds() / 1_000_000_000)) {
                result.stash = id.hex
            }
        }
        let current = try ws.targets()
        var states: [String: WorkingState] = [:]
        for (path, p) in current { states[path] = try WorkingState(path, p, snap) }
        let desired = try commit.map { try pointersAfterSwitch(to: $0, current: current, changed: switched) } ?? current
        let plan = try CheckoutPlanner.plan(CheckoutSituation(current: current, desired: desired, states: states,
                                                              synced: snap.cache.synced, switching: commit != nil,
                                                              switched: switched, force: force), world: self)
        try plan.refuseUncommitted(force: force)
        for (path, kind) in plan.uncommitted { try save(path, kind: kind) }

        // The new data is written under temporary names first: if the store lacks or has
        // damaged any of it, nothing has moved yet, neither HEAD nor a single file.
        var synced: [String: ObjectID] = [:]
        for t in plan.targets {
            switch t.step {
            case .keep:
                // What mlv last wrote there (`synced`) stays as it was: status still sees the edit.
                result.targets.append(.init(path: t.path, action: .kept, snapshot: t.pointer.snapshot?.hex))
            case .noData:
                continue
            case .unchanged(let id):
                result.targets.append(.init(path: t.path, action: .unchanged, snapshot: id.hex))
                synced[t.path] = id
            case .update(let entry):
                try ws.place(entry, at: t.path, restorer: restorer, snap: snap)
                result.targets.append(.init(path: t.path, action: .updated, snapshot: entry.id.hex))
                synced[t.path] = entry.id
            }
        }
        var journal: CheckoutJournal? = nil
        if let c = commit, let rev {
            let branch = git.isLocalBranch(rev) ? rev : nil
            // From here on pointers, code and HEAD move: journaled until the data is in place.
            let j = CheckoutJournal(from: try git.head(), fromBranch: git.currentBranch(), to: c, branch: branch)
            try j.write(ws)
            journal = j
            do {
                try git.checkout(c, branch: branch, force: force,
                                 atomically: { $0 == Config.fileName || $0.hasSuffix(Pointer.suffix) })
            } catch let e as GitError where e.isConflict {
                // git refused (a file in the way, say) while planning, before writing: nothing
                // moved, so there is no switch to complete; the journal goes with the attempt.
                if completing == nil, try git.head() == j.from { try j.remove(ws) }
                throw e
            }
            result.commit = c.hex
            result.branch = branch
        }
        // Targets the new commit no longer tracks: their data goes, as git's files would,
        // unless something the new commit has lives there (a target inside it, or files git
        // itself now tracks): then it stays, and nothing of the new commit is touched.
        let gitPaths = try git.indexPaths(endingWith: "")
        for (path, overlapsDesired) in plan.dropped {
            let overlaps = overlapsDesired || gitPaths.contains { RepoPath.isWithin($0, path) }
            if !overlaps && FS.exists(ws.absolute(path)) { restorer.remove(ws.absolute(path)) }
            snap.cache.forget(target: path)
            result.targets.append(.init(path: path, action: overlaps ? .untracked : .removed, snapshot: nil))
        }
        let done = try finish(synced: synced)
        try journal?.remove(ws)
        return done
    }

    /// The pointers a switch from HEAD to `commit` leaves in the working tree. git rewrites
    /// only the pointer files that differ between the two commits (`changed`); one the same in
    /// both keeps its local state, as git keeps any such file: a pointer changed and not yet
    /// committed (`mlv commit --no-git`), a target tracked since HEAD, one untracked since.
    /// Its data follows that pointer, not REV's (which would leave data and pointer apart).
    private func pointersAfterSwitch(to commit: GitOID, current: [(path: String, pointer: Pointer)],
                                     changed: Set<String>) throws -> [(path: String, pointer: Pointer)] {
        let rewritten = { (t: String) in changed.contains(Pointer.pointerPath(for: t)) }
        let out = (try ws.targets(at: commit).filter { rewritten($0.path) } + current.filter { !rewritten($0.path) })
            .sorted { $0.path < $1.path }
        try Workspace.checkNoNesting(out.map(\.path), context: "both tracked after the switch to \(commit.short)")
        return out
    }

    // MARK: CheckoutWorld

    func checkBeforeWriting(_ entry: TreeEntry, at path: String) throws {
        _ = try ws.checkBeforePlacing(entry, at: path, declared: true)
    }

    func untrackedWork(at path: String, kind: TargetKind) throws -> WorkingSnapshot? {
        try snap.snapshot(path, kind: kind, previous: nil)
    }

    func isRecorded(_ path: String, _ w: WorkingSnapshot) throws -> Bool {
        if try ws.replaceable(w.id, saved: &savedOnly) { return true }    // recorded before (another commit)
        // A folder --force saved and --snapshot brought back is work, whatever its files.
        guard w.type == .dir, !(savedOnly ?? ws.savedSnapshots()).contains(w.id) else { return false }
        // A folder whose every file is recorded somewhere (the store, or git itself)
        // loses nothing even if the folder as a whole was never committed.
        let tracked = try gitTracked ?? Set(ws.git.indexPaths(endingWith: ""))
        gitTracked = tracked
        for (rel, e) in snap.cache.entries where RepoPath.isWithin(rel, path) && e.manifest != .zero {
            if try !store.contains(e.manifest) && !tracked.contains(rel) { return false }
        }
        return true
    }

    // MARK: Finishing

    /// Renames what was written into place, records it in the stat cache and reports the totals.
    private func finish(synced: [String: ObjectID]) throws -> CheckoutResult {
        let written = try restorer.finish()
        for (rel, id) in written {
            if let st = FS.lstat(ws.absolute(rel)) { snap.cache.record(rel, FileStat(st), manifest: id) }
        }
        for (path, id) in synced { snap.cache.synced[path] = id }
        var cache = snap.cache
        try ws.saveStatCache(&cache)
        for rel in restorer.skippedRemovals {
            result.warnings.append("\(rel) was not removed: a folder above it is now a symlink, and mlv does not remove anything through links")
        }
        result.filesWritten = restorer.filesWritten
        result.bytesWritten = restorer.bytesWritten
        result.bytesReused = restorer.bytesReused
        return result
    }
}
