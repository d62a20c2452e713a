// `mlv commit`: snapshot tracked data and make the git commit.
import ArgumentParser
import MLVCore

struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Snapshot tracked data and make the git commit, in one step.",
        discussion: """
        Reads the tracked targets that changed (files whose size, mtime, ctime and inode match \
        what mlv last saw are not read again), stores their new chunks, updates their pointer \
        files, and commits the pointers together with whatever you staged with `git add`. \
        Author and committer come from git config (user.name, user.email) or \
        GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL / GIT_AUTHOR_DATE, as with `git commit`.

        A file over 10 MiB that goes into git itself rather than mlv's store (a `git add` of \
        a model) draws a one-line warning with the fix; `git config mlv.largeFileWarning 50m` \
        moves the threshold (k, m, g suffixes), 0 turns it off.

        A CSV or TSV dataset's pointer records its rows and columns, exact or not at all: a \
        file that ends inside an open quote, or whose lines end in a lone CR, is committed \
        without them, with a warning naming the fix (JSON: `uncounted_tables`).

        Examples:
          mlv commit -m "Add March data"
          mlv commit -m "Retrain" models/model.safetensors   # only this target
          mlv commit --no-git -m unused                       # store + pointers, no git commit
        """)

    @OptionGroup var repo: RepoOptions
    @Option(name: .shortAndLong, help: "The commit message.") var message: String?
    @Flag(help: "Store the data and update the pointers, but make no git commit.") var noGit = false
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "Commit only these targets (default: all tracked targets).") var paths: [String] = []

    func validate() throws {
        if !noGit && (message ?? "").isEmpty {
            throw ValidationError("a commit message is required: mlv commit -m \"what changed\"")
        }
    }

    func run() throws {
        output.apply()
        let r = try MLVCore.Commit(repo.open()).run(message: message ?? "", paths: paths, noGit: noGit, waiting: waitingNotice)
        for f in r.largeFilesInGit {
            Out.err("warning: \(f.path) (\(bytes(f.size))) went into git itself, not mlv's store; track it with `git rm --cached \(shellQuote(f.path)) && mlv track \(shellQuote(f.path))` (threshold: git config mlv.largeFileWarning)")
        }
        for t in r.uncountedTables { Out.err("warning: \(t.path): no row count: \(t.reason.explanation)") }
        if json { try Out.json(r); return }
        CommitText.render(r, message: message ?? "")
    }
}
