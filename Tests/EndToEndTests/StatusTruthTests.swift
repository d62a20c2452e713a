import Foundation
import Testing

/// `mlv status` never says clean while a pointer differs from HEAD's (issue 16 #7): after a
/// commit that failed on git's lock, after `mlv repro`, after a pointer staged by hand, and
/// with a conflicted pointer. The text, `--exit-code` and JSON agree.
@Suite struct StatusTruthTests {
    func expectNotClean(_ s: Sandbox, _ why: String, pointer: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try s.mlv("status", "--exit-code")
        #expect(r.status == 1, "\(why): status --exit-code says clean: \(r.stdout)", sourceLocation: sourceLocation)
        #expect(!r.stdout.contains("tracked data clean"), "\(why): \(r.stdout)", sourceLocation: sourceLocation)
        let j = try s.mlv("status", "--json")
        let obj = try JSONSerialization.jsonObject(with: j.stdoutBytes) as? [String: Any]
        let targets = obj?["targets"] as? [[String: Any]] ?? []
        let states = targets.map { "\($0["path"] ?? "")=\($0["pointer"] ?? "")" }
        #expect(states.contains(pointer), "\(why): pointer states \(states)", sourceLocation: sourceLocation)
    }

    @Test func commitThatFailedOnTheGitLockIsNotClean() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 50).utf8))
        try s.write("data.csv", csv(rows: 60))
        FileManager.default.createFile(atPath: s.repo + "/.git/index.lock", contents: Data())
        let r = try s.mlv("commit", "-m", "blocked")
        #expect(r.status != 0)
        try FileManager.default.removeItem(atPath: s.repo + "/.git/index.lock")
        try expectNotClean(s, "after a commit blocked by index.lock", pointer: "data.csv=changed")
        // Committing it clears the state.
        try s.mlvOK("commit", "-m", "now")
        #expect(try s.mlv("status", "--exit-code").status == 0)
    }

    @Test func stagedPointerAndUntrackedTargetAreChangesToBeCommitted() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 50).utf8))
        try s.write("data.csv", csv(rows: 70))
        try s.mlvOK("commit", "--no-git", "-m", "pointer only")     // pointer rewritten, no git commit
        try expectNotClean(s, "after commit --no-git", pointer: "data.csv=changed")
        let text = try s.mlv("status").stdout
        #expect(text.contains("changes to be committed") && text.contains("data.csv"), "\(text)")
        try s.mlvOK("commit", "-m", "record it")
        try s.mlvOK("untrack", "data.csv")
        try expectNotClean(s, "after untrack", pointer: "data.csv=removed")
    }

    @Test func reproOutputsAreChangesToBeCommitted() throws {
        let s = try Sandbox()
        try s.write("in/x.txt", "a\n")
        try s.mlvOK("track", "in")
        try s.mlvOK("commit", "-m", "base")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--out", "out", "--", "sh", "-c", "mkdir -p out; cp in/x.txt out/")
        try s.git("add", "mlv.yaml")
        try s.git("commit", "-qm", "stage")
        try s.mlvOK("repro")
        try expectNotClean(s, "after repro", pointer: "out=new")
    }

    @Test func conflictedPointerIsReportedOnceAsConflicted() throws {
        let s = try Sandbox()
        try s.write("a.csv", csv(rows: 10))
        try s.write("b.csv", csv(rows: 10))
        try s.mlvOK("track", "a.csv", "b.csv")
        try s.mlvOK("commit", "-m", "base")
        try s.git("checkout", "-q", "-b", "other")
        try s.write("a.csv", csv(rows: 20, seed: 1))
        try s.mlvOK("commit", "-m", "other")
        try s.git("checkout", "-q", "main")
        try s.mlvOK("checkout")
        try s.write("a.csv", csv(rows: 30, seed: 2))
        try s.mlvOK("commit", "-m", "main")
        // Without mlv's merge driver, git leaves a textual conflict in a.csv.mlv.
        try s.git("config", "merge.mlv.driver", "false")
        _ = try s.run("/usr/bin/git", ["merge", "-q", "other"])
        let r = try s.mlv("status", "--exit-code")
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("conflicted") && r.stdout.contains("git add a.csv.mlv"), "\(r.stdout)")
        let j = try s.mlv("status", "--json")
        let obj = try JSONSerialization.jsonObject(with: j.stdoutBytes) as? [String: Any]
        let targets = obj?["targets"] as? [[String: Any]] ?? []
        #expect(targets.filter { $0["path"] as? String == "a.csv" }.count == 1, "\(targets)")
        #expect(targets.count == 2, "\(targets)")
        #expect(targets.first { $0["path"] as? String == "a.csv" }?["state"] as? String == "conflicted")
        // Commands that would act on the undecided data stop with the way out.
        let c = try s.mlv("checkout")
        #expect(c.status == 3 && c.stderr.contains("unresolved merge conflict"), "\(c.stderr)")
    }
}

/// git's rule (issue 10 #10): a local change to a file that is the same in both commits is
/// kept by a checkout, with or without --force, and does not block it.
@Suite struct CheckoutKeepsUnrelatedCodeChangesTests {
    @Test func aLocalChangeToAFileTheSameInBothCommitsIsKept() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 10).utf8))
        try s.write("evaluate.py", "print('v1')\n")
        try s.git("add", "evaluate.py")
        try s.git("commit", "-qm", "code")
        try s.write("data.csv", csv(rows: 20))
        try s.mlvOK("commit", "-m", "d")
        try s.git("tag", "d")
        try s.git("checkout", "-q", "HEAD~1")
        try s.mlvOK("checkout")
        try s.write("evaluate.py", "print('local edit')\n")
        let r = try s.mlv("checkout", "d")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(s.read("evaluate.py") == Array("print('local edit')\n".utf8))
        #expect(s.read("data.csv") == Array(csv(rows: 20).utf8))
        let f = try s.mlv("checkout", "--force", "HEAD~1")
        #expect(f.status == 0, "\(f.stderr)")
        #expect(s.read("evaluate.py") == Array("print('local edit')\n".utf8), "--force reverted a change checkout had no reason to touch")
        #expect(s.read("data.csv") == Array(csv(rows: 10).utf8))
        // A change to a file that does differ between the commits is still refused.
        try s.git("checkout", "-q", "evaluate.py")
        try s.write("evaluate.py", "print('v2')\n")
        try s.git("commit", "-qam", "code v2")
        try s.write("evaluate.py", "print('another local edit')\n")
        let blocked = try s.mlv("checkout", "d")
        #expect(blocked.status == 3, "\(blocked.stderr)")
    }
}

/// A `mlv checkout REV` killed after it moved pointers but before HEAD (issue 10 #7, issue 16
/// #7): the journal makes the next command finish it instead of committing the mix. The
/// interrupted state is built exactly as the journal's format (mlv-store(5)) and git leave it.
@Suite struct InterruptedCheckoutTests {
    @Test func theNextCheckoutCompletesItAndCommitRefusesMeanwhile() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 10).utf8))
        let v1 = try s.head()
        for rows in [20, 30, 40] {
            try s.write("data.csv", csv(rows: rows))
            try s.mlvOK("commit", "-m", "rows \(rows)")
        }
        let v4 = try s.head()
        // Killed mid-way through `mlv checkout <v1>`: journal written, v1's pointer in place,
        // HEAD and the data still v4's.
        try s.write(".mlv/state/checkout-journal", "mlv checkout journal 1\nfrom \(v4)\nfrom-branch main\nto \(v1)\nbranch -\n")
        try s.git("checkout", v1, "--", "data.csv.mlv")
        let st = try s.mlv("status", "--exit-code")
        #expect(st.status == 1 && st.stdout.contains("interrupted `mlv checkout`"), "\(st.stdout)")
        let c = try s.mlv("commit", "-m", "code only")
        #expect(c.status == 3 && c.stderr.contains("run `mlv checkout` to finish it"), "\(c.stderr)")
        #expect(try s.head() == v4)
        let done = try s.mlv("checkout")
        #expect(done.status == 0, "\(done.stderr)")
        #expect(try s.head() == v1)
        #expect(s.read("data.csv") == Array(csv(rows: 10).utf8))
        #expect(!s.exists(".mlv/state/checkout-journal"))
        #expect(try s.mlv("status", "--exit-code").status == 0)
        #expect(try s.git("status", "--porcelain", "--untracked-files=no").stdout.isEmpty)
        // A journal mlv cannot read is an error naming it, not ignored.
        try s.write(".mlv/state/checkout-journal", "garbage\n")
        let bad = try s.mlv("checkout", "main")
        #expect(bad.status == 2 && bad.stderr.contains("checkout-journal"), "\(bad.stderr)")
    }
}

/// A commit never records data that is not its pointer's while the pointer moved since mlv
/// wrote it (found by a newcomer run): after a plain `git checkout` (out of sync) the other
/// branch's data would land on this one; after an edit and a `git pull` (diverged) the
/// teammate's change would be undone.
@Suite struct StaleDataCommitTests {
    @Test func outOfSyncDataIsNotCommitted() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 100).utf8))
        try s.git("checkout", "-q", "-b", "b")
        try s.write("d.csv", csv(rows: 101))
        try s.mlvOK("commit", "-m", "b: add row")
        try s.git("checkout", "-q", "main")
        #expect(try s.mlv("status").stdout.contains("out of sync"))
        try s.write("notes.txt", "note\n")
        try s.git("add", "notes.txt")
        let main = try s.head()
        let r = try s.mlv("commit", "-m", "main: notes")
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("d.csv: the pointer moved") && r.stderr.contains("mlv checkout"), "\(r.stderr)")
        #expect(try s.head() == main)
        try s.mlvOK("checkout")
        try s.mlvOK("commit", "-m", "main: notes")
        #expect(try s.shown("HEAD:d.csv") == Array(csv(rows: 100).utf8))
    }

    @Test func anEditOnTopOfAMovedPointerIsDivergedAndNotCommitted() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 100).utf8))
        let v1 = try s.head()
        try s.write("d.csv", csv(rows: 120))
        try s.mlvOK("commit", "-m", "teammate's version")
        // As after `git pull` with local edits: the data is v1's plus an edit, the pointer v2's.
        try s.git("checkout", "-q", v1)
        try s.mlvOK("checkout")
        try s.git("checkout", "-q", "main")
        try s.write("d.csv", csv(rows: 100) + "999,edited,1.0,1\n")
        let st = try s.mlv("status", "--json")
        #expect(st.stdout.contains("\"diverged\""), "\(st.stdout)")
        let r = try s.mlv("commit", "-m", "mine")
        #expect(r.status == 3, "\(r.stderr)")
        #expect(try s.shown("HEAD:d.csv") == Array(csv(rows: 120).utf8))
        // The way out the message names: save mine, bring theirs.
        let f = try s.mlvOK("checkout", "--force", "--", "d.csv")
        #expect(f.stderr.contains("saved your uncommitted d.csv"), "\(f.stderr)")
        #expect(s.read("d.csv") == Array(csv(rows: 120).utf8))
    }
}

/// `mlv repro` replaces outputs (a run, or a run-cache restore); a hand-edited output is
/// saved into the store first and the way back printed, never silently lost.
@Suite struct ReproKeepsEditedOutputsTests {
    @Test func aHandEditedOutputIsSavedBeforeARunCacheRestore() throws {
        let s = try Sandbox()
        try s.write("in/x.txt", "a\n")
        try s.mlvOK("track", "in")
        try s.mlvOK("commit", "-m", "base")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--out", "model.json", "--", "sh", "-c", "echo '{\"w\": 1}' > model.json")
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "trained")
        // Change the input and back, so the next repro restores from the run cache.
        try s.write("in/x.txt", "b\n")
        try s.mlvOK("repro")
        try s.write("in/x.txt", "a\n")
        try s.write("model.json", "{\"hand\": \"edited\"}\n")
        let r = try s.mlvOK("repro")
        #expect(r.stdout.contains("saved your uncommitted model.json"), "\(r.stdout)")
        #expect(s.read("model.json") == Array("{\"w\": 1}\n".utf8))
        guard let cmd = r.stdout.split(separator: "`").first(where: { $0.hasPrefix("mlv checkout --snapshot") }) else {
            Issue.record("no restore command printed: \(r.stdout)")
            return
        }
        let args = cmd.split(separator: " ").dropFirst().map(String.init)
        try s.run(mlvBinary, args)
        #expect(s.read("model.json") == Array("{\"hand\": \"edited\"}\n".utf8))
    }
}

/// `mlv commit` while a `git merge` is in progress concludes the merge: both parents, and
/// git's merge state cleared (found by a newcomer run: it made a one-parent commit).
@Suite struct CommitConcludesMergeTests {
    @Test func aCommitDuringAMergeHasBothParents() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 100).utf8))
        try s.git("checkout", "-q", "-b", "feature")
        try s.write("d.csv", csv(rows: 110))
        try s.mlvOK("commit", "-m", "feature rows")
        let feature = try s.head()
        try s.git("checkout", "-q", "main")
        try s.mlvOK("checkout")
        try s.write("d.csv", csv(rows: 105, seed: 3))
        try s.mlvOK("commit", "-m", "main rows")
        _ = try s.run("/usr/bin/git", ["merge", "-q", "feature"])
        #expect(FileManager.default.fileExists(atPath: s.repo + "/.git/MERGE_HEAD"))
        _ = try s.run("/usr/bin/git", ["checkout", "--ours", "d.csv.mlv"])
        try s.git("add", "d.csv.mlv")
        try s.mlvOK("checkout")
        try s.write("d.csv", csv(rows: 115, seed: 3))
        try s.mlvOK("commit", "-m", "Merge feature")
        let parents = try s.git("rev-list", "--parents", "-n", "1", "HEAD").stdout.split(separator: " ").dropFirst()
        #expect(parents.count == 2, "\(parents)")
        #expect(parents.contains { feature.hasPrefix($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(!FileManager.default.fileExists(atPath: s.repo + "/.git/MERGE_HEAD"))
        #expect(try s.shown("HEAD:d.csv") == Array(csv(rows: 115, seed: 3).utf8))
    }
}

/// A checkout git refuses before writing anything (an untracked file in the way) leaves no
/// journal behind: there is no switch to complete, and commit is not blocked.
@Suite struct RefusedCheckoutLeavesNoJournalTests {
    @Test func anUntrackedFileInTheWay() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 5).utf8))
        try s.git("checkout", "-q", "-b", "b")
        try s.write("new.txt", "tracked on b\n")
        try s.git("add", "new.txt")
        try s.git("commit", "-qm", "b")
        try s.git("checkout", "-q", "main")
        try s.write("new.txt", "mine, untracked\n")
        let r = try s.mlv("checkout", "b")
        #expect(r.status != 0, "\(r.stdout)")
        #expect(!s.exists(".mlv/state/checkout-journal"))
        #expect(s.read("new.txt") == Array("mine, untracked\n".utf8))
        #expect(!(try s.mlv("status").stdout.contains("interrupted")))
    }
}
