// `mlv status`: the operation (`Status`), its result, and a target's working state (shared
// with checkout and repro).
import MLVSystem
import MLVGit
import MLVStore

public struct TargetStatus: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        case clean
        case modified          // the working data differs from the pointer: uncommitted work
        case added             // tracked, never committed
        case deleted           // the working data is gone
        case notCheckedOut = "not_checked_out"   // data never written here (a fresh clone): run `mlv checkout`
        case outOfSync = "out_of_sync"           // the pointer moved (git pull, git switch): run `mlv checkout`
        case conflicted        // the pointer has an unresolved merge conflict in git
        case diverged          // edited here while the pointer moved (git pull): committing would undo the other change
    }
    /// The pointer file against HEAD's: what `mlv commit` (or `git commit`) would record.
    public enum PointerState: String, Codable, Sendable {
        case committed         // the same as HEAD's
        case changed           // differs from HEAD's: a change to be committed
        case new               // HEAD does not track this target
        case removed           // HEAD tracks it, the index no longer does: an untrack to be committed
        case conflicted        // an unresolved merge conflict
    }
    public var path: String
    public var kind: TargetKind
    public var state: State
    public var pointer: PointerState
    public var snapshot: String?
    /// HEAD's snapshot of the target, when the pointer differs from HEAD's.
    public var committed: String?
    public var working: String?
    /// The pointer's snapshot is not (wholly) in the local store: run `mlv pull`.
    public var missingObjects: Bool

    enum CodingKeys: String, CodingKey {
        case path, kind, state, pointer, snapshot, committed, working
        case missingObjects = "missing_objects"
    }
}

public struct GitFileStatus: Codable, Equatable, Sendable {
    public var path: String
    public var kind: TargetKind
    public enum State: String, Codable, Sendable {
        // The words of a target's `TargetStatus.State`, so one status says one thing one way.
        case clean
        case modified
        case added             // staged, in no commit yet
        case deleted           // not in the working tree
        case untracked         // not yet added to git
    }
    public var state: State
}

public struct StatusResult: Codable, Sendable {
    public var targets: [TargetStatus]
    public var gitFiles: [GitFileStatus]
    /// Files looked at, and how many of them had to be read (the rest matched the stat cache).
    public var entriesChecked: Int
    public var filesRead: Int
    /// The commit (or branch) an interrupted `mlv checkout` was switching to; nil when none.
    public var interruptedCheckout: String?

    enum CodingKeys: String, CodingKey {
        case interruptedCheckout = "interrupted_checkout"
        case targets
        case gitFiles = "git_files"
        case entriesChecked = "entries_checked"
        case filesRead = "files_read"
    }

    /// Clean means: every target's data matches its pointer, every pointer matches HEAD's,
    /// the store holds the data, and mlv's git-kept files match HEAD. The one definition used
    /// by the text, `--exit-code` and JSON (`clean`).
    public var isClean: Bool {
        interruptedCheckout == nil
            && targets.allSatisfy { $0.state == .clean && $0.pointer == .committed && !$0.missingObjects }
            && gitFiles.allSatisfy { $0.state == .clean }
    }
}

/// A target's working state, computed once and shared by status and checkout.
struct WorkingState {
    var state: TargetStatus.State
    var working: WorkingSnapshot?
}

extension WorkingState {
    /// Compares `path`'s working data (through the stat cache) with its pointer and with what mlv last wrote there.
    init(_ path: String, _ p: Pointer, _ snap: Snapshotter) throws {
        let w = try snap.snapshot(path, kind: p.kind, previous: p)
        let state: TargetStatus.State
        if p.snapshot == nil {
            state = w == nil ? .deleted : .added
        } else if let w {
            if w.id == p.snapshot && w.executable == p.executable && w.type == p.type { state = .clean }
            else if snap.cache.synced[path] == w.id { state = .outOfSync }
            else if let s = snap.cache.synced[path], s != p.snapshot { state = .diverged }
            else { state = .modified }
        } else {
            state = snap.cache.synced[path] == nil ? .notCheckedOut : .deleted
        }
        self.init(state: state, working: w)
    }
}

/// `mlv status`: what differs between the working data, the pointers and HEAD.
public struct Status {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// True when the snapshot's root object is readable and, for a file, all its chunks are
    /// indexed and their packs present. A damaged store answers false, not an error.
    private func isAvailable(_ id: ObjectID, type: Pointer.TargetType) throws -> Bool {
        let store = try ws.store()
        guard try store.contains(id) else { return false }
        do {
            switch type {
            case .dir: _ = try store.tree(id)
            case .file:
                var packs = Set<Int32>()
                for c in try store.manifest(id).chunks {
                    guard let loc = try store.location(of: c.id) else { return false }
                    packs.insert(loc.pack)
                }
                let all = try store.knownPacks()
                for p in packs where !FS.exists(store.packPath(all[Int(p)])) { return false }
            }
        } catch is StoreError { return false } catch is ObjectError { return false }
        return true
    }

    /// Every target's state, its pointer's against HEAD's, and mlv's git-kept files'.
    public func run() throws -> StatusResult {
        let snap = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: nil)
        var out: [TargetStatus] = []
        var head: [String: Pointer] = [:]
        if let h = try ws.git.head() { for (t, p) in try ws.targets(at: h) { head[t] = p } }
        let current = try ws.targets(skippingConflicts: true)
        for (path, p) in current {
            let state = try WorkingState(path, p, snap)
            var missing = false
            if let s = p.snapshot { missing = try !isAvailable(s, type: p.type) }
            let before = head[path]
            let pointer: TargetStatus.PointerState = before == nil ? .new : (before == p ? .committed : .changed)
            out.append(TargetStatus(path: path, kind: p.kind, state: state.state, pointer: pointer, snapshot: p.snapshot?.hex,
                                    committed: pointer == .changed ? before?.snapshot?.hex : nil,
                                    working: state.working?.id.hex, missingObjects: missing))
        }
        let listed = Set(current.map(\.path))
        for c in try ws.git.conflictedPaths() where c.hasSuffix(Pointer.suffix) {
            let path = String(c.dropLast(Pointer.suffix.count))
            out.append(TargetStatus(path: path, kind: head[path]?.kind ?? .dataset, state: .conflicted, pointer: .conflicted,
                                    snapshot: nil, committed: head[path]?.snapshot?.hex, working: nil, missingObjects: false))
        }
        // Tracked at HEAD, gone from the index (`mlv untrack`, `git rm`): to be committed.
        let conflicted = Set(out.filter { $0.state == .conflicted }.map(\.path))
        for (path, p) in head.sorted(by: { $0.key < $1.key }) where !listed.contains(path) && !conflicted.contains(path) {
            out.append(TargetStatus(path: path, kind: p.kind, state: .clean, pointer: .removed, snapshot: nil,
                                    committed: p.snapshot?.hex, working: nil, missingObjects: false))
        }
        out.sort { $0.path < $1.path }
        var gitFiles: [GitFileStatus] = []
        let tracked = ws.config.metrics.map { ($0, TargetKind.metrics) } + ws.config.paramsFiles.map { ($0, TargetKind.params) }
        if !tracked.isEmpty {
            let changed = Set(try ws.git.changes().map(\.path))
            let headCommit = try ws.git.head()
            for (path, kind) in tracked.sorted(by: { $0.0 < $1.0 }) {
                let state: GitFileStatus.State
                if !FS.exists(ws.absolute(path)) { state = .deleted }
                else if try !ws.git.isInIndex(path) { state = .untracked }
                else if !changed.contains(path) { state = .clean }
                // Staged (a stage wrote it) but in no commit yet: new, not modified.
                else { state = try headCommit.map { try ws.git.hasFile(path, in: $0) } ?? false ? .modified : .added }
                gitFiles.append(GitFileStatus(path: path, kind: kind, state: state))
            }
        }
        // Remember what was hashed so the next status need not read it again.
        var cache = snap.cache
        if cache.misses > 0 { try? ws.saveStatCache(&cache) }
        snap.saveRecordCache()
        let journal = try CheckoutJournal.read(ws).flatMap { try $0.isCurrent(ws) ? $0 : nil }
        return StatusResult(targets: out, gitFiles: gitFiles, entriesChecked: cache.hits + cache.misses, filesRead: snap.filesRead,
                            interruptedCheckout: journal.map { $0.branch ?? $0.to.hex })
    }
}
