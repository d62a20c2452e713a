// MLVCore — what mlv knows about ML repositories: targets (datasets, feature definitions,
// models, metrics, params), their pointers in git, snapshots of them in the store, and the
// operations on top (track, commit, status, checkout, log, show).
//
//   Workspace   a git working tree plus its .mlv/ folder and committed mlv.yaml
//   Target      a tracked file or directory; its pointer `<path>.mlv` is what git versions
//   Snapshot    the store id of a target's content: a file manifest or a tree
//   StatCache   what the working files looked like when mlv last read or wrote them
import MLVSystem
import MLVGit
import MLVStore

/// Errors of the core operations. Each message is one line, names the thing, and ends with
/// the command that fixes it where there is one.
public enum MLVError: Error, CustomStringConvertible, Equatable {
    case notAGitRepo(String)
    case notInitialized(String)
    case pathOutsideRepo(String)
    case pathInsideMetadata(String)
    case noSuchPath(String)
    case notTracked(String)
    case alreadyTrackedByGit(String)
    case nestedTarget(String, inside: String)
    case badPointer(path: String, line: Int, why: String)
    /// A config file mlv cannot use; `line` (and `column`, for invalid YAML) where known.
    case badConfig(path: String, line: Int? = nil, column: Int? = nil, why: String)
    case unknownRevision(String)
    case pathNotInRevision(path: String, rev: String)
    /// `mlv diff A B -- PATH` where PATH is tracked on neither side.
    case pathNotInDiff(path: String, from: String, to: String)
    case unsupportedFileType(String)
    case dataModified([String])
    case codeModified([String])
    case mergeConflict(String)
    case invalidArgument(String)
    /// Nothing to record; `missing` names targets whose data is gone (not a change a commit
    /// records: they are restored or untracked).
    case nothingToCommit(missing: [String])
    /// A folder on the way to `path` is a symlink: acting on `path` could leave the tree.
    case symlinkInPath(path: String, link: String)
    /// A file stands where `path` needs a folder.
    case fileInPath(path: String, file: String)
    /// A working file whose links resolve outside the working tree (or into .git/.mlv).
    case linkOutsideRepo(path: String, target: String)
    /// Something under `.mlv/` comes from git or is a link: the local store would not be ours.
    case foreignMetadata(String)
    /// A pointer file with an unresolved merge conflict in git's index.
    case conflictedPointer(String)
    /// A `mlv checkout REV` was interrupted mid-switch (its journal is there).
    case interruptedCheckout(to: String)
    /// Targets whose data is not their pointer's while the pointer moved since mlv wrote it.
    case staleData([String])
    /// git would write `path` of `rev` through `link`, a symlink git does not track.
    case checkoutThroughLink(path: String, link: String, rev: String)

    /// What joins a problem to its fix: "; ", or " Otherwise " after a question ("did you
    /// mean 'stages'? Otherwise fix the file…").
    static func then(_ why: String) -> String { why.hasSuffix("?") ? " Otherwise " : "; " }

    public var description: String {
        switch self {
        case .notAGitRepo(let p):
            return "\(p) is not inside a git repository; run `git init` first, or `mlv init --git` to create one"
        case .notInitialized(let p):
            return "\(p) does not use mlv yet; run `mlv init`"
        case .pathOutsideRepo(let p):
            return "\(p) is outside the repository; mlv tracks only files inside the git working tree"
        case .pathInsideMetadata(let p):
            return "\(p) is inside .git or .mlv; those folders are managed by git and mlv, not tracked"
        case .noSuchPath(let p):
            return "\(p): no such file or directory"
        case .notTracked(let p):
            return "\(p) is not tracked by mlv; run `mlv track \(p)` first"
        case .alreadyTrackedByGit(let p):
            return "\(p) is tracked by git itself; run `git rm --cached \(p)` first so mlv can take it over"
        case .nestedTarget(let p, let outer):
            return "\(p) overlaps the tracked target \(outer); track either the directory or files in it, not both"
        case .badPointer(let path, let line, let why):
            return "\(path):\(line): \(why)\(MLVError.then(why))restore the committed one with `git checkout HEAD -- \(path)`, or re-create it with `mlv track`"
        case .badConfig(let path, let line, let column, let why):
            let at = line.map { ":\($0)" + (column.map { ":\($0)" } ?? "") } ?? ""
            // HEAD's copy, not the index's: `mlv stage add` may have staged the broken one.
            return "\(path)\(at): \(why)\(MLVError.then(why))fix the file (see `man mlv-config`) or restore the committed one with `git checkout HEAD -- \(path)`"
        case .unknownRevision(let r):
            return "unknown revision \(r.debugDescription); use a branch, tag, commit id or HEAD~N (see `git log`)"
        case .pathNotInDiff(let p, let a, let b):
            return "\(p) is not tracked at \(a) or \(b == "working tree" ? "in the working tree" : "at \(b)"); see `mlv ls \(a)` for what is"
        case .pathNotInRevision(let p, let r):
            return "\(p) is not tracked at \(r); see `mlv ls \(r)` for what is"
        case .unsupportedFileType(let p):
            return "\(p) is neither a regular file, a directory nor a symlink (device, socket or FIFO); mlv cannot track it"
        case .dataModified(let paths):
            return "uncommitted changes to tracked data would be overwritten: \(paths.joined(separator: ", ")); run `mlv commit` first, or add --force (your version is saved in the store first)"
        case .codeModified(let paths):
            let shown = paths.prefix(5).joined(separator: ", ") + (paths.count > 5 ? " and \(paths.count - 5) more" : "")
            return "uncommitted changes in git would be overwritten: \(shown); commit or stash them, or add --force"
        case .mergeConflict(let why):
            return why
        case .invalidArgument(let why):
            return why
        case .nothingToCommit(let missing):
            guard let first = missing.first else {
                return "nothing to commit: tracked data is unchanged and nothing is staged in git"
            }
            return "nothing to commit: \(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") deleted here, and a commit records data, not its absence; bring it back with `mlv checkout -- \(first)`, or stop tracking it with `mlv untrack \(first)`"
        case .symlinkInPath(let p, let link):
            return "\(p): \(link) is a symlink; mlv does not read, write or remove data through links (they could lead outside the repository); replace \(link) with a real folder, or untrack \(p)"
        case .fileInPath(let p, let file):
            return "\(p): \(file) is a file where a folder is needed; move it away and retry"
        case .linkOutsideRepo(let p, let target):
            return "\(p) is a symlink leading outside the working tree (to \(target)); mlv reads only files inside the repository: replace it with the file itself"
        case .foreignMetadata(let why):
            return why
        case .checkoutThroughLink(let path, let link, let rev):
            return "\(rev) has \(path), but \(link) here is a symlink git does not track (restored data, or made by hand); git would write through it, possibly outside the repository. Nothing was changed; if the link is yours to drop, remove it (`rm \(link)`) and run the checkout again"
        case .staleData(let paths):
            return "\(paths.joined(separator: ", ")): the pointer moved (git pull, checkout or merge) since this data was written here, and the data is not the pointer's; committing it would undo that change. Run `mlv checkout` to bring the data in line (add --force to save your version in the store first), then commit"
        case .interruptedCheckout(let to):
            return "an interrupted `mlv checkout` left the switch to \(to) half done; run `mlv checkout` to finish it first"
        case .conflictedPointer(let p):
            return "\(p) has an unresolved merge conflict; pick a side with `git checkout --ours \(p)` or `git checkout --theirs \(p)` (or edit it), then `git add \(p)` and `mlv checkout`"
        }
    }
}

extension MLVError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .dataModified, .codeModified, .mergeConflict, .conflictedPointer, .interruptedCheckout, .staleData: return .refused
        case .nothingToCommit: return .nothingToDo
        case .notAGitRepo, .notInitialized, .pathOutsideRepo, .pathInsideMetadata, .noSuchPath, .notTracked,
             .alreadyTrackedByGit, .nestedTarget, .badPointer, .badConfig, .unknownRevision, .pathNotInRevision, .pathNotInDiff,
             .unsupportedFileType, .invalidArgument, .symlinkInPath, .fileInPath, .linkOutsideRepo, .foreignMetadata, .checkoutThroughLink:
            return .input
        }
    }
}
