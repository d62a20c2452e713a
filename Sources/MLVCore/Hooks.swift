// git hooks mlv installs (`Hooks`) and git's merge driver for pointer files (`PointerMerge`).
import MLVSystem
import Glibc
import MLVGit
import MLVStore

/// The git hooks that keep data in line with the pointers after `git checkout`, `git pull`
/// and `git rebase`: installed by `mlv hooks install`, repaired by `mlv init`.
public struct Hooks {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var git: GitRepository { workspace.git }

    static let hookMarker = "# installed by `mlv hooks install`"
    /// post-checkout runs after `git checkout`/`git switch`, post-merge after `git pull`/`git merge`,
    /// post-rewrite after `git rebase`: each brings the data in line with the new pointers.
    static let hookNames = ["post-checkout", "post-merge", "post-rewrite"]

    /// `mlv hooks install`: returns the hook files written. An existing hook that mlv did not
    /// write is left alone unless `force`.
    public func install(force: Bool) throws -> [String] {
        let dir = FS.join(git.gitDir, "hooks")
        try FS.makeDirectories(dir)
        var written: [String] = []
        for name in Hooks.hookNames {
            let path = FS.join(dir, name)
            if FS.exists(path), try !isOwnHook(path), !force {
                throw MLVError.invalidArgument("\(path) already exists and was not written by mlv; add `mlv checkout` to it yourself, or rerun with --force to replace it")
            }
            try FS.atomicWrite(Array(Hooks.hookScript(name).utf8), to: path, mode: 0o755)
            written.append(".git/hooks/" + name)
        }
        return written
    }

    /// `mlv init` run again: rewrites the hooks an mlv wrote (older ones called mlv by an
    /// absolute path that breaks when the binary moves), leaving others alone. Returns
    /// those it changed.
    func repair() throws -> [String] {
        var repaired: [String] = []
        for name in Hooks.hookNames {
            let path = FS.join(FS.join(git.gitDir, "hooks"), name)
            guard FS.exists(path), try isOwnHook(path) else { continue }
            let script = Hooks.hookScript(name)
            if try FS.readAll(path) == Array(script.utf8) { continue }
            try FS.atomicWrite(Array(script.utf8), to: path, mode: 0o755)
            repaired.append(".git/hooks/" + name)
        }
        return repaired
    }

    private func isOwnHook(_ path: String) throws -> Bool {
        String(decoding: try FS.readAll(path), as: UTF8.self).contains(Hooks.hookMarker)
    }

    /// The hook calls `mlv` from PATH, as git's merge and diff drivers do, so moving or
    /// reinstalling the binary does not break it; without mlv on PATH it says how to repair
    /// in one line and lets git's own step stand.
    static func hookScript(_ name: String) -> String {
        """
        #!/bin/sh
        \(hookMarker): keeps tracked data in line with the pointers git just changed.
        # A hook cannot undo git's own step, so a refusal here (uncommitted data) only warns.
        if ! command -v mlv >/dev/null 2>&1; then
          echo "mlv: \(name) hook: mlv is not on PATH, so tracked data was not updated; put mlv on PATH (\\`make install\\` in mlv's source installs it), then run \\`mlv checkout\\`" >&2
          exit 0
        fi
        mlv checkout --quiet || echo "mlv: data not updated; see the message above, then run \\`mlv checkout\\`" >&2
        exit 0

        """
    }
}

/// The git merge driver for pointer files (`merge.mlv.driver = mlv merge-driver %O %A %B %P`).
/// Two branches that change different targets never reach it (one pointer per target); when
/// both change the same target it keeps a side that did not change, and otherwise stops the
/// merge with a message saying how to choose.
public enum PointerMerge {
    public enum Outcome: Equatable {
        case merged(String)          // the result, written over %A
        case conflict(String)        // the message for the user
    }

    public static func merge(base: [UInt8], ours: [UInt8], theirs: [UInt8], path: String) -> Outcome {
        func parse(_ b: [UInt8], _ side: String) -> Result<Pointer?, MLVError> {
            if b.isEmpty { return .success(nil) }
            do { return .success(try Pointer(parsing: b, path: "\(path) (\(side))")) }
            catch let e as MLVError { return .failure(e) }
            catch { return .failure(.invalidArgument("\(error)")) }
        }
        guard case .success(let o) = parse(base, "base"), case .success(let a) = parse(ours, "ours"),
              case .success(let b) = parse(theirs, "theirs") else {
            return .conflict("\(path): a side of the merge is not a valid pointer; pick one with `git checkout --ours \(path)` or `--theirs`, then `mlv checkout` and commit")
        }
        if a == b || b == o { return .merged(a?.encoded() ?? "") }
        if a == o { return .merged(b?.encoded() ?? "") }
        let ours = a?.snapshot?.short ?? "deleted", theirs = b?.snapshot?.short ?? "deleted"
        let target = String(path.dropLast(Pointer.suffix.count))
        return .conflict("\(target): both branches changed this data (ours \(ours), theirs \(theirs)); keep one with `git checkout --ours \(path)` or `git checkout --theirs \(path)`, then run `mlv checkout` and commit; compare them with `mlv diff`")
    }
}
