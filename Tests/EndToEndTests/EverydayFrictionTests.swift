import Foundation
import MLVTestSupport
import Testing

/// Everyday friction a new user meets outside the data itself: man pages, hooks and git's
/// drivers after the binary moves, `make install`, big files committed to git by mistake,
/// what gc keeps for the reflog, and -q/--json on the commands scripts run.
@Suite struct EverydayFrictionTests {

    // MARK: Man pages

    /// Every page renders with groff as `man` runs it (tbl when the page asks for it on its
    /// first line) without a warning; each line of a command's discussion starts a line of
    /// its own (usage tables, examples); and every non-ASCII symbol of the help survives.
    @Test func manPagesRenderAsTheHelpReads() throws {
        let s = try Sandbox(initMLV: false)
        let dir = packageRoot + "/man"
        let pages = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(pages.count > 30)
        var rendered: [String: String] = [:]
        for page in pages {
            let path = dir + "/" + page
            let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
            // man(1) runs the preprocessors a page names in a first line `'\" t`.
            var pre: [String] = []
            if let first = text.split(separator: "\n", omittingEmptySubsequences: false).first, first.hasPrefix("'\\\" ") {
                if first.dropFirst(4).contains("t") { pre.append("-t") }
            }
            let check = try s.run("/usr/bin/groff", pre + ["-ww", "-z", "-Tutf8", "-mandoc", path])
            #expect(check.status == 0 && check.stderr.isEmpty, "groff warns on man/\(page): \(check.stderr)")
            let r = try s.run("/usr/bin/groff", pre + ["-Tutf8", "-mandoc", "-P-cbou", path])
            #expect(r.status == 0)
            rendered[page] = r.stdout
        }
        // The help as mlv itself holds it.
        let dump = try s.run(mlvBinary, ["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        func collapse(_ x: some StringProtocol) -> String {
            x.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        }
        var checkedLines = 0
        func walk(_ cmd: [String: Any], _ names: [String]) {
            let page = names.joined(separator: ".") + ".1"
            let visible = (cmd["shouldDisplay"] as? Bool) ?? true
            if let out = rendered[page] {
                let lines = out.split(separator: "\n").map { collapse($0) }
                let discussion = (cmd["discussion"] as? String) ?? ""
                for line in discussion.split(separator: "\n") where !collapse(line).isEmpty {
                    let words = collapse(line).split(separator: " ").prefix(3).joined(separator: " ")
                    #expect(lines.contains { $0.hasPrefix(words) }, "man/\(page): '\(line)' does not start a line of its own")
                    checkedLines += 1
                }
                var help = discussion + ((cmd["abstract"] as? String) ?? "")
                for a in (cmd["arguments"] as? [[String: Any]]) ?? [] { help += (a["abstract"] as? String) ?? "" }
                for ch in Set(help.unicodeScalars.filter { !$0.isASCII }) {
                    #expect(out.unicodeScalars.contains(ch), "man/\(page) drops '\(ch)' (U+\(String(ch.value, radix: 16, uppercase: true)))")
                }
            } else {
                #expect(!visible, "no man page \(page)")
            }
            for sub in (cmd["subcommands"] as? [[String: Any]]) ?? [] {
                walk(sub, names + [(sub["commandName"] as? String) ?? "?"])
            }
        }
        walk(try #require(root["command"] as? [String: Any]), ["mlv"])
        #expect(checkedLines > 100)
    }

    // MARK: Hooks, merge driver, git diff driver

    /// A copy of the binary under test, named `mlv`, in `root/name/`.
    private func binCopy(_ s: Sandbox, _ name: String) throws -> String {
        let dir = s.root + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: mlvBinary, toPath: dir + "/mlv")
        return dir
    }

    /// Hooks and the merge driver installed by a binary that then moves keep working: they
    /// call `mlv` from PATH.
    @Test func hooksAndMergeDriverSurviveTheBinaryMoving() throws {
        var s = try Sandbox(initMLV: false)
        let first = try binCopy(s, "bin1")
        try s.run(first + "/mlv", ["init", "--hooks"])
        // The binary moves: the old place is gone, the new one is on PATH.
        let second = s.root + "/bin2"
        try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: first + "/mlv", toPath: second + "/mlv")
        s.env["PATH"] = second + ":/usr/bin:/bin"
        try s.write("data/d.csv", csv(rows: 10))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", csv(rows: 40))
        try s.mlvOK("commit", "-m", "v2")
        let back = try s.git("checkout", "-q", "HEAD~1")
        #expect(s.read("data/d.csv") == Array(csv(rows: 10).utf8), "hook did not run: \(back.stderr)")
        try s.git("checkout", "-q", "main")
        #expect(s.read("data/d.csv") == Array(csv(rows: 40).utf8))
        // The merge driver runs too: both sides changed the data, and it says so.
        try s.git("checkout", "-q", "-b", "left")
        try s.write("data/d.csv", csv(rows: 20))
        try s.mlvOK("commit", "-m", "left")
        try s.mlvOK("checkout", "main")
        try s.write("data/d.csv", csv(rows: 30))
        try s.mlvOK("commit", "-m", "main")
        let m = try s.run("/usr/bin/git", ["merge", "--no-edit", "left"])
        #expect(m.status != 0)
        #expect((m.stdout + m.stderr).contains("both branches changed this data"), "\(m.stdout)\(m.stderr)")
    }

    /// Without mlv on PATH the hook says so in one line, with the way to repair, and git's
    /// own step goes through.
    @Test func aHookWithoutMlvOnPathSaysHowToRepair() throws {
        var s = try Sandbox()
        try s.mlvOK("hooks", "install")
        try s.write("data/d.csv", csv(rows: 10))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", csv(rows: 40))
        try s.mlvOK("commit", "-m", "v2")
        // A PATH with nothing on it (git itself is run by its absolute path), so an mlv
        // installed on this machine cannot stand in.
        let empty = s.root + "/empty-bin"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        s.env["PATH"] = empty
        let r = try s.git("checkout", "-q", "HEAD~1")
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("mlv") }
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("not on PATH") && r.stderr.contains("mlv checkout"), "\(r.stderr)")
        #expect(s.read("data/d.csv") == Array(csv(rows: 40).utf8))   // left alone, as said
    }

    /// `mlv init` run again repairs what an older mlv registered with an absolute path that
    /// no longer exists: hooks it wrote and the merge driver.
    @Test func initRunAgainRepairsHooksAndDrivers() throws {
        let s = try Sandbox()
        try s.mlvOK("hooks", "install")
        let hook = s.repo + "/.git/hooks/post-checkout"
        let old = "#!/bin/sh\n# installed by `mlv hooks install`: keeps tracked data in line.\n'/gone/mlv' checkout --quiet\nexit 0\n"
        try Data(old.utf8).write(to: URL(fileURLWithPath: hook))
        try s.git("config", "merge.mlv.driver", "'/gone/mlv' merge-driver %O %A %B %P")
        let again = try s.mlvOK("init")
        #expect(again.stdout.contains("repaired") && again.stdout.contains("merge.mlv.driver") && again.stdout.contains("post-checkout"), "\(again.stdout)")
        let text = String(decoding: FileManager.default.contents(atPath: hook) ?? Data(), as: UTF8.self)
        #expect(!text.contains("/gone/mlv"), "\(text)")
        #expect(!(try s.git("config", "merge.mlv.driver").stdout.contains("/gone/mlv")))
        try s.write("data/d.csv", csv(rows: 10))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", csv(rows: 40))
        try s.mlvOK("commit", "-m", "v2")
        try s.git("checkout", "-q", "HEAD~1")
        #expect(s.read("data/d.csv") == Array(csv(rows: 10).utf8))
    }

    /// Plain `mlv init` makes `git diff` show what changed in the data, not two snapshot ids.
    @Test func plainGitDiffSummarisesPointersAfterInit() throws {
        let s = try Sandbox()
        try s.write("data/d.csv", csv(rows: 10))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", csv(rows: 40))
        try s.mlvOK("commit", "-m", "v2")
        let attributes = String(decoding: s.read(".gitattributes") ?? [], as: UTF8.self)
        #expect(attributes.split(separator: "\n").contains("*.mlv diff=mlv"))
        let d = try s.git("diff", "HEAD~1", "HEAD")
        let columns = csv(rows: 1).split(separator: "\n")[0].split(separator: ",").count
        #expect(d.stdout.contains("-10 rows x \(columns) columns") && d.stdout.contains("+40 rows x \(columns) columns"), "\(d.stdout)")
        #expect(!d.stdout.contains("snapshot: "), "\(d.stdout)")
    }

    // MARK: make install

    @Test func makeInstallPutsBinaryManPagesAndCompletionsInPlace() throws {
        let s = try Sandbox(initMLV: false)
        let dest = s.root + "/dest"
        let r = try s.run("/usr/bin/make", ["-C", packageRoot, "install", "DESTDIR=" + dest, "PREFIX=/usr", "MLV_BIN=" + mlvBinary])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let fm = FileManager.default
        let bin = dest + "/usr/bin/mlv"
        #expect(fm.isExecutableFile(atPath: bin))
        #expect(fm.contents(atPath: bin) == fm.contents(atPath: mlvBinary))
        for page in try fm.contentsOfDirectory(atPath: packageRoot + "/man") {
            let section = page.hasSuffix(".5") ? "man5" : "man1"
            let installed = dest + "/usr/share/man/\(section)/" + page
            #expect(fm.contents(atPath: installed) == fm.contents(atPath: packageRoot + "/man/" + page), "\(installed)")
        }
        let completions = ["bash": "/usr/share/bash-completion/completions/mlv",
                           "zsh": "/usr/share/zsh/site-functions/_mlv",
                           "fish": "/usr/share/fish/vendor_completions.d/mlv.fish"]
        for (shell, path) in completions {
            let want = try s.run(mlvBinary, ["--generate-completion-script", shell]).stdout
            let got = String(decoding: fm.contents(atPath: dest + path) ?? Data(), as: UTF8.self)
            #expect(!want.isEmpty && got == want, "\(shell) completion at \(path)")
        }
        #expect(try s.run("/bin/bash", ["-n", dest + completions["bash"]!]).status == 0)
        #expect(try s.run(bin, ["--version"]).status == 0)
    }

    // MARK: Large files committed to git itself

    @Test func commitWarnsAboutALargeFileStagedInGit() throws {
        let s = try Sandbox()
        try s.write("data/d.csv", csv(rows: 10))
        try s.mlvOK("track", "data/d.csv")
        let big = 10 * 1024 * 1024 + 1
        try s.write("weights.bin", [UInt8](repeating: 7, count: big))
        try s.write("small.txt", [UInt8](repeating: 7, count: 2000))
        try s.git("add", "weights.bin", "small.txt")
        let r = try s.mlvOK("commit", "-m", "v1")
        let warnings = r.stderr.split(separator: "\n").filter { $0.contains("weights.bin") }
        #expect(warnings.count == 1, "\(r.stderr)")
        #expect(warnings.first?.contains("mlv track weights.bin") == true)
        #expect(warnings.first?.contains("10.0 MiB") == true)
        #expect(!r.stderr.contains("small.txt") && !r.stdout.contains("weights.bin"))

        // The limit is git config mlv.largeFileWarning (git's k/m/g suffixes; 0 turns it off).
        try s.git("config", "mlv.largeFileWarning", "1k")
        try s.write("small2.txt", [UInt8](repeating: 8, count: 2000))
        try s.git("add", "small2.txt")
        let j = try s.mlvOK("commit", "--json", "-m", "v2")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        let large = try #require(obj["large_files_in_git"] as? [[String: Any]])
        #expect(large.count == 1)
        #expect(large.first?["path"] as? String == "small2.txt")
        #expect((large.first?["size"] as? NSNumber)?.intValue == 2000)
        try s.git("config", "mlv.largeFileWarning", "0")
        try s.write("weights.bin", [UInt8](repeating: 9, count: big))
        try s.git("add", "weights.bin")
        let off = try s.mlvOK("commit", "-m", "v3")
        #expect(!off.stderr.contains("weights.bin"), "\(off.stderr)")
        try s.git("config", "mlv.largeFileWarning", "lots")
        let bad = try s.mlv("commit", "-m", "v4")
        #expect(bad.status == 2 && bad.stderr.contains("mlv.largeFileWarning"), "\(bad.stderr)")
    }

    // MARK: gc and the reflog

    /// Data only a reflog still reaches is kept, and gc says how much, for which refs, and
    /// how to let it go; doing that frees it.
    @Test func gcReportsWhatOnlyTheReflogKeeps() throws {
        let s = try Sandbox()
        try s.write("data/d.csv", csv(rows: 100))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", csv(rows: 3000, seed: 5))
        try s.mlvOK("commit", "-m", "v2")
        try s.git("reset", "-q", "--hard", "HEAD~1")
        try s.mlvOK("checkout")
        #expect(s.read("data/d.csv") == Array(csv(rows: 100).utf8))
        let j = try s.mlvOK("gc", "--dry-run", "--json")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        let kept = try #require(obj["kept_for_reflog_or_stash"] as? [String: Any], "\(j.stdout)")
        #expect((kept["snapshots"] as? NSNumber)?.intValue == 1)
        #expect(((kept["bytes"] as? NSNumber)?.intValue ?? 0) > 0)
        let refs = (kept["refs"] as? [String]) ?? []
        #expect(refs.contains("HEAD") && refs.contains("refs/heads/main"), "\(refs)")
        let t = try s.mlvOK("gc", "--dry-run")
        #expect(t.stdout.contains("git reflog expire --expire=now --all && git stash clear"), "\(t.stdout)")
        // The same snapshot held by a stash entry alone (its pointer stashed, reflogs gone).
        let v2 = try s.git("show", "HEAD@{1}:data/d.csv.mlv").stdout
        try s.write("data/d.csv.mlv", v2)
        try s.git("stash", "-q")
        try s.git("reflog", "expire", "--expire=now", "--all")
        let st = try s.mlvOK("gc", "--dry-run", "--json")
        let so = try #require(try JSONSerialization.jsonObject(with: Data(st.stdout.utf8)) as? [String: Any])
        let sk = try #require(so["kept_for_reflog_or_stash"] as? [String: Any], "\(st.stdout)")
        #expect((sk["snapshots"] as? NSNumber)?.intValue == 1)
        #expect((sk["refs"] as? [String]) == ["refs/stash"], "\(st.stdout)")
        try s.run("/bin/sh", ["-c", "git reflog expire --expire=now --all && git stash clear"])
        let after = try s.mlvOK("gc", "--json")
        let a = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        #expect(((a["bytes_freed"] as? NSNumber)?.intValue ?? 0) > 0)
        #expect(((a["kept_for_reflog_or_stash"] as? [String: Any])?["snapshots"] as? NSNumber)?.intValue == 0)
        #expect(!(try s.mlvOK("gc").stdout.contains("reflog")))
    }

    // MARK: -q/--quiet and --json

    /// The commands that act (as opposed to those whose output is the point) take
    /// -q/--quiet and --json.
    @Test func actingCommandsTakeQuietAndJSON() throws {
        let s = try Sandbox(initMLV: false)
        let commands = [["init"], ["track"], ["untrack"], ["commit"], ["status"], ["checkout"], ["push"], ["fetch"],
                        ["pull"], ["gc"], ["fsck"], ["remote", "add"], ["remote", "remove"], ["stage", "add"],
                        ["stage", "remove"], ["hooks", "install"], ["repro"], ["run"]]
        for c in commands {
            let help = try s.run(mlvBinary, c + ["--help"]).stdout
            #expect(help.contains("-q, --quiet"), "mlv \(c.joined(separator: " ")) lacks -q/--quiet")
            #expect(help.contains("--json"), "mlv \(c.joined(separator: " ")) lacks --json")
        }
    }

    @Test func quietPrintsNothingAndJSONParses() throws {
        let s = try Sandbox()
        try s.write("data/d.csv", csv(rows: 10))
        #expect(try s.mlvOK("track", "data/d.csv", "-q").stdout.isEmpty)
        #expect(try s.mlvOK("commit", "-q", "-m", "v1").stdout.isEmpty)
        let remote = s.root + "/remote"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        #expect(try s.mlvOK("remote", "add", "origin", remote, "-q").stdout.isEmpty)
        #expect(try s.mlvOK("push", "-q").stdout.isEmpty)
        #expect(try s.mlvOK("fetch", "-q").stdout.isEmpty)
        #expect(try s.mlvOK("gc", "-q").stdout.isEmpty)
        #expect(try s.mlvOK("fsck", "-q").stdout.isEmpty)
        #expect(try s.mlvOK("status", "-q").stdout.isEmpty)
        try s.write("data/d.csv", csv(rows: 11))
        let st = try s.mlv("status", "-q", "--exit-code")
        #expect(st.status == 1 && st.stdout.isEmpty)
        try s.mlvOK("checkout", "--force", "-q", "--", "data/d.csv")
        let pull = try s.mlvOK("pull", "--json")
        let p = try #require(try JSONSerialization.jsonObject(with: Data(pull.stdout.utf8)) as? [String: Any], "\(pull.stdout)")
        #expect(p["fetch"] is [String: Any] && p["checkout"] is [String: Any])
        let un = try s.mlvOK("untrack", "--json", "data/d.csv")
        let u = try #require(try JSONSerialization.jsonObject(with: Data(un.stdout.utf8)) as? [[String: Any]], "\(un.stdout)")
        #expect(u.first?["path"] as? String == "data/d.csv")
    }
}

@Suite struct EverydayFrictionStageTests {
    /// A stage that prints: with --json stdout is the JSON alone (the stage's lines go to
    /// stderr), with -q stdout stays empty.
    @Test func reproAndRunPrintParseableJSONAndStayQuiet() throws {
        let s = try Sandbox()
        try s.write("in.txt", "a\n")
        try s.mlvOK("track", "in.txt")
        try s.mlvOK("stage", "add", "s", "--dep", "in.txt", "--out", "o.txt", "--", "sh", "-c", "echo hello-from-stage; cp in.txt o.txt")
        let r = try s.mlvOK("repro", "--json")
        let steps = try #require(try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [[String: Any]], "\(r.stdout)")
        #expect(steps.first?["stage"] as? String == "s")
        #expect(r.stderr.contains("hello-from-stage"))
        try s.mlvOK("commit", "-m", "v1")
        let run = try s.mlvOK("run", "s", "--json")
        #expect(try JSONSerialization.jsonObject(with: run.stdoutBytes) is [String: Any], "\(run.stdout)")
        try s.write("in.txt", "b\n")
        let q = try s.mlvOK("repro", "-q")
        #expect(q.stdout.isEmpty, "\(q.stdout)")
        #expect(s.read("o.txt") == Array("b\n".utf8))
    }
}
