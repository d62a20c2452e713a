import Foundation
import MLVTestSupport
import Testing

@Suite struct GitIntegrationTests {
    /// A fresh `git clone` needs no `mlv init`; with the store at hand (copied here, pulled
    /// from a remote in real use) `mlv checkout` brings the data.
    @Test func aFreshCloneSetsItselfUp() throws {
        let s = try Sandbox()
        try s.write("data/d.csv", csv(rows: 500))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let st = try JSONSerialization.jsonObject(with: Data(try s.mlvOK("status", "--json", cwd: clone).stdout.utf8)) as! [String: Any]
        #expect((st["targets"] as! [[String: Any]])[0]["state"] as? String == "not_checked_out")
        #expect(FileManager.default.fileExists(atPath: clone + "/.mlv/store/VERSION"))
        #expect(try s.git("config", "merge.mlv.driver", cwd: clone).stdout.contains("merge-driver"))
        try FileManager.default.removeItem(atPath: clone + "/.mlv/store")
        try FileManager.default.copyItem(atPath: s.repo + "/.mlv/store", toPath: clone + "/.mlv/store")
        try s.mlvOK("checkout", cwd: clone)
        #expect(s.read("data/d.csv", in: clone) == Array(csv(rows: 500).utf8))
        #expect(try s.mlvOK("status", cwd: clone).stdout.contains("clean"))
    }

    @Test func branchesChangingDifferentTargetsMergeCleanly() throws {
        let s = try Sandbox()
        try s.write("data/a.csv", csv(rows: 10))
        try s.write("data/b.csv", csv(rows: 10, seed: 1))
        try s.mlvOK("track", "data/a.csv", "data/b.csv")
        try s.mlvOK("commit", "-m", "base")
        try s.git("checkout", "-q", "-b", "left")
        try s.write("data/a.csv", csv(rows: 20))
        try s.mlvOK("commit", "-m", "left changes a")
        try s.mlvOK("checkout", "main")
        try s.git("checkout", "-q", "-b", "right")
        try s.write("data/b.csv", csv(rows: 30, seed: 1))
        try s.mlvOK("commit", "-m", "right changes b")
        try s.git("merge", "-q", "--no-edit", "left")
        try s.mlvOK("checkout")
        #expect(s.read("data/a.csv") == Array(csv(rows: 20).utf8))
        #expect(s.read("data/b.csv") == Array(csv(rows: 30, seed: 1).utf8))
        #expect(try s.mlvOK("status").stdout.contains("clean"))
    }

    @Test func conflictingPointerEditsStopWithAClearMessage() throws {
        let s = try Sandbox()
        try s.write("data/a.csv", csv(rows: 10))
        try s.mlvOK("track", "data/a.csv")
        try s.mlvOK("commit", "-m", "base")
        try s.git("checkout", "-q", "-b", "left")
        try s.write("data/a.csv", csv(rows: 20))
        try s.mlvOK("commit", "-m", "left")
        try s.mlvOK("checkout", "main")
        try s.write("data/a.csv", csv(rows: 30))
        try s.mlvOK("commit", "-m", "main")
        let r = try s.run("/usr/bin/git", ["merge", "--no-edit", "left"])
        #expect(r.status != 0)
        #expect((r.stdout + r.stderr).contains("both branches changed this data"))
        #expect((r.stdout + r.stderr).contains("git checkout --ours data/a.csv.mlv"))
    }

    @Test func hooksKeepDataInSyncWithGitCheckout() throws {
        let s = try Sandbox()
        try s.mlvOK("hooks", "install")
        try s.write("data/d.csv", csv(rows: 10))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", csv(rows: 40))
        try s.mlvOK("commit", "-m", "v2")
        try s.git("checkout", "-q", "HEAD~1")
        #expect(s.read("data/d.csv") == Array(csv(rows: 10).utf8))
        try s.git("checkout", "-q", "main")
        #expect(s.read("data/d.csv") == Array(csv(rows: 40).utf8))
    }
}

@Suite struct SafetyTests {
    /// A folder target at one commit, a file inside it tracked on its own at the next:
    /// switching between them loses neither the data nor the pointer git just wrote.
    @Test func changingTheTargetLayoutLosesNothing() throws {
        let s = try Sandbox()
        try s.write("data/a.csv", csv(rows: 10))
        try s.write("data/b.csv", csv(rows: 20))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "folder target")
        try s.mlvOK("untrack", "data")
        try s.mlvOK("track", "data/a.csv")
        try s.write("data/a.csv", csv(rows: 30))
        try s.mlvOK("commit", "-m", "file target")
        try s.mlvOK("checkout", "HEAD~1")
        #expect(s.read("data/a.csv") == Array(csv(rows: 10).utf8))
        #expect(s.read("data/b.csv") == Array(csv(rows: 20).utf8))
        try s.mlvOK("checkout", "main")
        #expect(s.read("data/a.csv") == Array(csv(rows: 30).utf8))
        #expect(s.exists("data/a.csv.mlv"))
        #expect(try s.git("status", "--porcelain").stdout.contains("data/a.csv.mlv") == false)
        #expect(try s.mlvOK("status").stdout.contains("clean"))
    }

    @Test func forceStashesUncommittedCodeInsteadOfDiscardingIt() throws {
        let s = try Sandbox()
        try s.write("train.py", "v1\n")
        try s.git("add", "train.py")
        try s.write("data/d.csv", csv(rows: 5))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "one")
        try s.write("train.py", "v2\n")
        try s.git("add", "train.py")
        try s.mlvOK("commit", "-m", "two")
        try s.write("train.py", "my edit\n")
        let refused = try s.mlv("checkout", "HEAD~1")
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("train.py"))
        let forced = try s.mlvOK("checkout", "--force", "HEAD~1")
        #expect(forced.stderr.contains("git stash pop"))
        #expect(s.read("train.py") == Array("v1\n".utf8))
        #expect(try s.git("stash", "list").stdout.contains("mlv checkout --force"))
        #expect(try s.git("stash", "show", "-p").stdout.contains("my edit"))
    }

    @Test func aGitFolderInsideTrackedDataIsRefused() throws {
        let s = try Sandbox()
        try s.write("data/d/.git/config", "[core]\n")
        let r = try s.mlv("track", "data/d")
        #expect(r.status == 2)
        #expect(r.stderr.contains(".git"))
        #expect(!s.exists("data/d.mlv"))
    }

    /// A checkout in another process may be writing temporary files right now: status,
    /// which takes no lock, must leave them alone; commit, which holds the lock, clears them.
    @Test func statusLeavesTemporaryFilesAloneAndCommitClearsThem() throws {
        let s = try Sandbox()
        try s.write("data/d/a.txt", "a\n")
        try s.mlvOK("track", "data/d")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d/.a.txt.mlv-tmp-123-456", "half written")
        #expect(try s.mlvOK("status", "--exit-code").status == 0)
        #expect(s.exists("data/d/.a.txt.mlv-tmp-123-456"))
        _ = try s.mlv("commit", "-m", "nothing")
        #expect(!s.exists("data/d/.a.txt.mlv-tmp-123-456"))
    }
}

@Suite struct ManPageTests {
    /// man/ holds pages generated from the command definitions; regenerate them with
    /// `make man` when a command changes.
    @Test func manPagesAreCurrent() throws {
        let tool = packageRoot + "/.build/debug/generate-manual"
        #expect(FileManager.default.isExecutableFile(atPath: tool), "build it with `swift build --product generate-manual`")
        let s = try Sandbox(initMLV: false)
        let out = s.root + "/man"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // The same generator `make man` runs (generate-manual, then the help's own lines and symbols).
        let r = try s.run("/usr/bin/env", ["python3", packageRoot + "/Tests/Scripts/man.py", mlvBinary, tool, out])
        #expect(r.status == 0, "\(r.stderr)")
        let generated = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(generated.contains("mlv.1") && generated.contains("mlv.commit.1"))
        for name in generated {
            let fresh = FileManager.default.contents(atPath: out + "/" + name)
            let committed = FileManager.default.contents(atPath: packageRoot + "/man/" + name)
            #expect(fresh == committed, "man/\(name) is stale: run `make man`")
        }
        let committedPages = try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/man").filter { $0.hasSuffix(".1") }
        #expect(Set(committedPages) == Set(generated), "man/ has pages no command generates")
    }
}
