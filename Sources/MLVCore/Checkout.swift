// `mlv checkout`: the operation's entry point (`Checkout`), its result and the states it
// reports. The decisions of a whole-tree switch are made by `CheckoutPlanner` (pure) and
// carried out by `CheckoutExecutor`, which also holds the two restore modes (paths, --snapshot).
import MLVSystem
import MLVGit
import MLVStore

/// What checkout did with one target; the JSON `action` of `mlv checkout --json`.
public enum CheckoutAction: String, Codable, Sendable {
    /// Written to match the pointer it now follows.
    case updated
    /// Already matching: nothing written.
    case unchanged
    /// No longer tracked after the switch: its data went, as git's files would.
    case removed
    /// Brought back by `checkout -- PATH` or `--snapshot`.
    case restored
    /// No longer tracked, but something the new commit has lives there: left in place.
    case untracked
    /// An uncommitted change where the commits do not differ: kept, as git keeps one.
    case kept
}

public struct CheckoutResult: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var path: String
        public var action: CheckoutAction
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

/// `mlv checkout [REV] [-- PATH...]`, or `--snapshot ID -- PATH`.
///
/// Safety rule: working data is overwritten or removed only when its content is already
/// recorded: it equals the pointer, or what mlv last wrote or committed there. Anything
/// else is uncommitted work: refused, or with `force` saved into the store first.
///
/// A switch to another commit is a transaction (see CheckoutJournal): one that was
/// interrupted is completed first, by any `mlv checkout`.
public struct Checkout {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    public func run(rev: String?, paths: [String], force: Bool, snapshot: String?,
                    waiting: @escaping (String) -> Void) throws -> CheckoutResult {
        let ws = workspace
        do {
            return try journaled(rev: rev, paths: paths, force: force, snapshot: snapshot, waiting: waiting)
        } catch StoreError.missingObject(let id, let type) {
            // Data a fresh clone never fetched: name what brings it. `mlv pull` fetches only
            // the current pointers' data, so it helps only a checkout without REV.
            guard snapshot == nil else { throw StoreError.missingObject(id, type: type) }
            let needed: [NeededSnapshot]
            if let rev {
                needed = try FetchMissing(ws).needed(revs: [rev], paths: paths)
            } else {
                let wanted = try paths.map { try ws.userPath($0) }
                needed = try ws.targets().compactMap { t, p in
                    guard let s = p.snapshot, wanted.isEmpty || wanted.contains(where: { RepoPath.isWithin(t, $0) || RepoPath.isWithin($0, t) })
                    else { return nil }
                    return NeededSnapshot(id: s, path: t, rev: nil, pointer: p)
                }
            }
            let missing = try FetchMissing(ws).incomplete(needed)
            guard !missing.isEmpty else { throw StoreError.missingObject(id, type: type) }
            let args = paths.isEmpty ? "" : " -- " + paths.map(shellQuote).joined(separator: " ")
            throw FetchMissing.notFetched(missing, fix: rev.map { "run \(FetchMissing.hint(missing, paths: paths)), then `mlv checkout \(FetchMissing.quoteRev($0))\(args)` again" }
                                                    ?? "run `mlv pull\(args)` (fetch, then checkout)")
        }
    }

    private func journaled(rev: String?, paths: [String], force: Bool, snapshot: String?,
                           waiting: @escaping (String) -> Void) throws -> CheckoutResult {
        let ws = workspace
        let lock = try ws.lock("checkout", waiting: waiting)
        defer { withExtendedLifetime(lock) {} }
        guard let journal = try CheckoutJournal.read(ws) else {
            return try locked(rev: rev, paths: paths, force: force, snapshot: snapshot)
        }
        // HEAD moved by other means since (a `git checkout` of the user's, which the hooks
        // follow with `mlv checkout`): that choice stands, the old switch is not resumed.
        if try !journal.isCurrent(ws) {
            try journal.remove(ws)
            return try locked(rev: rev, paths: paths, force: force, snapshot: snapshot)
        }
        // The interrupted switch's checks ran before it changed anything (uncommitted work was
        // refused or saved then), so finishing it is what the user asked for back then; work
        // edited since is refused as any checkout refuses it, or saved with --force.
        var done = try locked(rev: journal.branch ?? journal.to.hex, paths: [], force: force, snapshot: nil, completing: journal)
        done.completed = journal.to.hex
        if rev == nil && paths.isEmpty && snapshot == nil { return done }
        var result = try locked(rev: rev, paths: paths, force: force, snapshot: snapshot)
        result.completed = journal.to.hex
        return result
    }

    /// One of the three modes, under the lock. `completing`: the journal of a switch this
    /// finishes, whose earlier attempt may have moved pointers already; its journal stays
    /// until the data is in place, whatever fails.
    private func locked(rev: String?, paths: [String], force: Bool, snapshot: String?,
                        completing: CheckoutJournal? = nil) throws -> CheckoutResult {
        let executor = try CheckoutExecutor(workspace)
        defer { executor.abandon() }
        if let snapshot { return try executor.restoreSnapshot(snapshot, paths: paths, force: force) }
        if !paths.isEmpty { return try executor.restorePaths(paths, rev: rev, force: force) }
        return try executor.switchTree(to: rev, force: force, completing: completing)
    }
}
