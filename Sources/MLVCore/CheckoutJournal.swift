import MLVSystem
import MLVGit
import MLVStore

/// The record of a switch to another commit in progress: `.mlv/state/checkout-journal`.
///
/// A whole-tree `mlv checkout REV` writes new data under temporary names, then moves
/// pointers, code and HEAD (git), then renames the data into place. Killed between the first
/// move and the last rename, it would leave pointers that are neither HEAD's nor the data's —
/// and a later `mlv commit` would record that mix. So the journal is written (atomically)
/// right before git changes anything and removed once the data is in place. While it exists:
///
/// - any `mlv checkout` first **completes** the interrupted switch (its safety checks ran
///   before it changed anything, so finishing it is what was asked), then does its own work;
/// - `mlv status` reports the interrupted checkout and is not clean;
/// - `mlv commit` refuses, naming `mlv checkout` as the way out.
///
/// Format (text, one field per line; documented in mlv-store(5)):
///
///     mlv checkout journal 1
///     from <40-hex commit, or "-" for an unborn HEAD>
///     from-branch <the branch HEAD was on, or "-" when detached>
///     to <40-hex commit>
///     branch <local branch name, or "-" for a detached HEAD>
///
/// A journal whose HEAD (commit and branch) is neither its start nor its end is stale: HEAD
/// was moved by other means since (the user's `git checkout`), and that choice stands.
struct CheckoutJournal: Equatable {
    var from: GitOID?
    var fromBranch: String?
    var to: GitOID
    var branch: String?

    static let header = "mlv checkout journal 1"
    static func path(_ ws: Workspace) -> String { FS.join(ws.mlvDir, "state/checkout-journal") }

    func write(_ ws: Workspace) throws {
        let text = "\(CheckoutJournal.header)\nfrom \(from?.hex ?? "-")\nfrom-branch \(fromBranch ?? "-")\nto \(to.hex)\nbranch \(branch ?? "-")\n"
        try FS.makeDirectories(FS.dirname(CheckoutJournal.path(ws)))
        try FS.atomicWrite(Array(text.utf8), to: CheckoutJournal.path(ws))
    }

    func remove(_ ws: Workspace) throws {
        FS.remove(CheckoutJournal.path(ws))
        try FS.syncDirectory(FS.dirname(CheckoutJournal.path(ws)))
    }

    /// The journal of an interrupted checkout, or nil. A journal that cannot be read (cut
    /// short, a newer format) is an error naming the file, never silently ignored.
    static func read(_ ws: Workspace) throws -> CheckoutJournal? {
        let path = CheckoutJournal.path(ws)
        guard FS.lstat(path) != nil else { return nil }
        let bad = MLVError.foreignMetadata("\(path) is not a checkout journal mlv can read; if no `mlv checkout` is running, remove it and run `mlv checkout REV` again")
        let lines = String(decoding: try FS.readAll(path), as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count == 5, lines[0] == header, lines[1].hasPrefix("from "), lines[2].hasPrefix("from-branch "),
              lines[3].hasPrefix("to "), lines[4].hasPrefix("branch ") else { throw bad }
        func name(_ s: Substring) -> String? { s == "-" || s.isEmpty ? nil : String(s) }
        let from = String(lines[1].dropFirst(5)), to = String(lines[3].dropFirst(3))
        guard let toID = try? ws.git.resolve(to), toID.hex == to else { throw bad }
        let fromID: GitOID? = from == "-" ? nil : try? ws.git.resolve(from)
        return CheckoutJournal(from: fromID, fromBranch: name(lines[2].dropFirst(12)), to: toID, branch: name(lines[4].dropFirst(7)))
    }

    /// True while HEAD is where the interrupted switch left it: at its start or its end,
    /// commit and branch both.
    func isCurrent(_ ws: Workspace) throws -> Bool {
        let head = try ws.git.head(), onBranch = ws.git.currentBranch()
        return (head == from && onBranch == fromBranch) || (head == to && onBranch == branch)
    }
}
