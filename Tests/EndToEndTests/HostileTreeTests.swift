import MLVSystem
import Foundation
import Glibc
import MLVStore
import MLVTestSupport
import Testing

/// Hostile snapshots (issue 16, findings 8-10), built with MLVStore's own writer from the
/// documented format (man/mlv-store.5) and named by a committed pointer: a chunk bigger than
/// checkout's 16 MiB staging batch, a tree nested 100,000 levels deep, and tree "DAG bombs"
/// (each level naming the next tree twice). No input may crash, hang or exhaust mlv: each
/// command either works or stops early with a one-line error naming the target.
@Suite struct HostileTreeTests {
    /// Objects written straight into the sandbox's store (no mlv process runs meanwhile).
    final class Planter {
        let store: Store
        let writer: StoreWriter
        init(_ s: Sandbox) throws {
            store = try Store(root: s.repo + "/.mlv/store")
            writer = try store.writer(compressionLevel: 1)
        }
        func chunk(_ bytes: [UInt8]) throws -> ObjectID { try writer.addObject(bytes, type: .chunk) }
        func manifest(_ chunks: [[UInt8]]) throws -> (ObjectID, UInt64) {
            var list: [ManifestChunk] = []
            for c in chunks { list.append(ManifestChunk(id: try chunk(c), length: UInt32(c.count))) }
            let size = chunks.reduce(UInt64(0)) { $0 + UInt64($1.count) }
            return (try writer.addObject(FileManifest(size: size, chunks: list).encoded(), type: .file), size)
        }
        func tree(_ entries: [TreeEntry]) throws -> ObjectID { try writer.addObject(Tree(entries: entries).encoded(), type: .tree) }
        func commit() throws { try writer.commit() }
    }

    /// Commits a pointer for `target` naming `snapshot`, with the given declared totals.
    func commitPointer(_ s: Sandbox, _ target: String, dir: Bool, snapshot: ObjectID, size: UInt64, files: UInt64) throws {
        var text = "# mlv pointer: git versions this file, mlv keeps the data (see `man mlv-store`)\nversion: 1\nkind: dataset\n"
        text += dir ? "type: dir\n" : "type: file\nmode: 644\n"
        text += "snapshot: \(snapshot.hex)\nsize: \(size)\nfiles: \(files)\n"
        try s.write(target + ".mlv", text)
        try s.git("add", target + ".mlv")
        try s.git("commit", "-q", "-m", "hostile \(target)")
    }

    /// Runs mlv with a deadline and a 4 GiB address-space limit: a hang or a runaway is killed
    /// and reported as a failure instead of stalling the suite (or the machine).
    func mlvTimed(_ s: Sandbox, _ args: [String], cwd: String? = nil, seconds: Double = 60,
                  sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -v 4194304; exec \"$0\" \"$@\"", mlvBinary] + args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? s.repo)
        p.environment = s.environment
        let outPath = s.root + "/out-" + UUID().uuidString, errPath = s.root + "/err-" + UUID().uuidString
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        var timedOut = false
        if p.isRunning {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
        }
        p.waitUntilExit()
        try out.close()
        try err.close()
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        // Only the start of a runaway output is kept.
        let h = try FileHandle(forReadingFrom: URL(fileURLWithPath: outPath))
        let outData = try h.read(upToCount: 1 << 20) ?? Data()
        try h.close()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        #expect(!timedOut, "mlv \(args.joined(separator: " ")) still running after \(Int(seconds)) s: killed", sourceLocation: sourceLocation)
        return RunResult(status: timedOut ? -1 : p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData.prefix(4096), as: UTF8.self), stdoutBytes: outData)
    }

    func expectRefusal(_ r: RunResult, _ what: String, status: Int32 = 4, mentions: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(what): exit \(r.status): \(r.stderr.prefix(600))", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("mlv: error: ") && r.stderr.split(separator: "\n").count == 1,
                "\(what): \(r.stderr.prefix(600))", sourceLocation: sourceLocation)
        for m in mentions { #expect(r.stderr.contains(m), "\(what): \(m) not in \(r.stderr.prefix(600))", sourceLocation: sourceLocation) }
    }

    /// Every folder and file below `dir` (relative), without following links.
    func listing(_ dir: String) -> Set<String> {
        Set(FileManager.default.enumerator(atPath: dir).map { e in e.compactMap { $0 as? String } } ?? [])
    }

    /// A sandbox whose `data` folder was committed by mlv (v1), then replaced in a second git
    /// commit by a pointer naming `snapshot`, and a directory remote holding both.
    func hostileFolder(_ build: (Planter) throws -> (ObjectID, UInt64, UInt64)) throws -> Sandbox {
        let s = try Sandbox()
        try s.write("data/ok.txt", "fine\n")
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.git("commit", "-q", "-m", "remote")
        let p = try Planter(s)
        let (root, size, files) = try build(p)
        try p.commit()
        try commitPointer(s, "data", dir: true, snapshot: root, size: size, files: files)
        return s
    }

    /// Checks what every reader does with a hostile folder snapshot at HEAD: a one-line
    /// integrity error naming the target, quickly; checkout and pull create nothing.
    func expectRefusedEverywhere(_ s: Sandbox, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = listing(s.repo + "/data")
        expectRefusal(try mlvTimed(s, ["ls", "HEAD"]), "ls", mentions: ["data"] + mentions, sourceLocation: sourceLocation)
        expectRefusal(try mlvTimed(s, ["ls", "HEAD:data"]), "ls HEAD:data", mentions: ["data"] + mentions, sourceLocation: sourceLocation)
        expectRefusal(try mlvTimed(s, ["diff", "HEAD~1", "HEAD"]), "diff", mentions: ["data"] + mentions, sourceLocation: sourceLocation)
        // git's textconv driver gets a copy of the pointer file.
        let ptr = s.root + "/pointer-copy.mlv"
        try? FileManager.default.removeItem(atPath: ptr)
        try FileManager.default.copyItem(atPath: s.repo + "/data.mlv", toPath: ptr)
        expectRefusal(try mlvTimed(s, ["diff-driver", ptr]), "diff-driver", mentions: mentions, sourceLocation: sourceLocation)
        let c = try mlvTimed(s, ["checkout"])
        expectRefusal(c, "checkout", mentions: ["data"] + mentions, sourceLocation: sourceLocation)
        // Refused before anything was written: the v1 folder is as it was.
        #expect(listing(s.repo + "/data") == before, "checkout changed data/: \(listing(s.repo + "/data").count) entries", sourceLocation: sourceLocation)
        #expect(s.read("data/ok.txt") == Array("fine\n".utf8), sourceLocation: sourceLocation)
        let f = try mlvTimed(s, ["fsck"])
        #expect(f.status == 4 && f.stdout.contains("data.mlv"), "fsck: \(f.status) \(f.stdout.prefix(600)) \(f.stderr)", sourceLocation: sourceLocation)
        for m in mentions { #expect(f.stdout.contains(m), "fsck: \(m) not in \(f.stdout.prefix(600))", sourceLocation: sourceLocation) }
        // A clone pulling it from a remote: refused at fetch, before any folder is created.
        try s.mlvOK("push", "--rev", "HEAD", "--rev", "HEAD~1")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let pull = try mlvTimed(s, ["pull"], cwd: clone)
        expectRefusal(pull, "pull", mentions: mentions, sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: clone + "/data"), "pull created \(listing(clone + "/data").count) entries", sourceLocation: sourceLocation)
    }

    @Test func aChunkOver16MiBIsRestoredByCheckoutShowAndPull() throws {
        let s = try Sandbox()
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.git("commit", "-q", "-m", "remote")
        let p = try Planter(s)
        // The format allows objects up to 256 MiB; mlv's chunker never cuts one over 256 KiB.
        let big = noise((16 << 20) + 1, seed: 81), tail = noise(1000, seed: 82)
        let (id, size) = try p.manifest([big, tail])
        try p.commit()
        try commitPointer(s, "big.bin", dir: false, snapshot: id, size: size, files: 1)
        let c = try mlvTimed(s, ["checkout"])
        #expect(c.status == 0, "\(c.stderr)")
        // Compared to a Bool: a failed == on 16 MiB arrays would have the test library diff them.
        let checkedOut = s.read("big.bin") == big + tail
        #expect(checkedOut)
        let show = try mlvTimed(s, ["show", "HEAD:big.bin"])
        #expect(show.status == 0 && show.stderr.isEmpty, "\(show.stderr)")
        let shown = [UInt8](show.stdoutBytes.prefix(1 << 20)) == Array(big.prefix(1 << 20))
        #expect(shown)
        #expect(try s.mlv("fsck").status == 0)
        // No temporary file left next to the target.
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.repo).filter { $0.contains("mlv-tmp") }.isEmpty)
        try s.mlvOK("push")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let pull = try mlvTimed(s, ["pull"], cwd: clone)
        #expect(pull.status == 0, "\(pull.stderr)")
        let pulled = s.read("big.bin", in: clone) == big + tail
        #expect(pulled)
        #expect(try FileManager.default.contentsOfDirectory(atPath: clone).filter { $0.contains("mlv-tmp") }.isEmpty)
    }

    @Test func aTree100000LevelsDeepIsRefusedBeforeAnythingIsWritten() throws {
        let s = try hostileFolder { p in
            let (m, size) = try p.manifest([Array("leaf\n".utf8)])
            var id = try p.tree([TreeEntry(name: "f", kind: .file, size: size, files: 1, id: m)])
            for _ in 0..<100_000 { id = try p.tree([TreeEntry(name: "d", kind: .directory, size: size, files: 1, id: id)]) }
            return (id, size, 1)
        }
        try expectRefusedEverywhere(s, mentions: ["256 levels"])
    }

    /// A tree "DAG bomb": each of 40 levels names the next tree twice, with honest totals
    /// (2^40 files at the top). Returns the root, one file's size, and the expanded count.
    func honestDAGBomb(_ p: Planter) throws -> (ObjectID, UInt64, UInt64) {
        let (m, size) = try p.manifest([Array("x".utf8)])
        var id = try p.tree([TreeEntry(name: "f", kind: .file, size: size, files: 1, id: m)])
        var files: UInt64 = 1
        for _ in 0..<40 {
            id = try p.tree([TreeEntry(name: "a", kind: .directory, size: files * size, files: files, id: id),
                             TreeEntry(name: "b", kind: .directory, size: files * size, files: files, id: id)])
            files *= 2
        }
        return (id, size, files)
    }

    @Test func aTreeDAGBombWhosePointerSaysOneFileIsRefused() throws {
        let s = try hostileFolder { p in
            let (id, size, _) = try honestDAGBomb(p)
            return (id, size, 1)
        }
        try expectRefusedEverywhere(s, mentions: ["files"])
    }

    @Test func aTreeDAGBombWithHonestTotalsIsRefused() throws {
        // Red-team F4: the pointer itself declares the 2^40 files the DAG expands to, so every
        // total checks out; the per-snapshot file limit stops it.
        let s = try hostileFolder { p in
            let (id, size, files) = try honestDAGBomb(p)
            return (id, files * size, files)
        }
        try expectRefusedEverywhere(s, mentions: ["files"])
    }

    @Test func aTreeDAGBombWithFalseTotalsIsRefused() throws {
        let s = try hostileFolder { p in
            let (m, size) = try p.manifest([Array("x".utf8)])
            var id = try p.tree([TreeEntry(name: "f", kind: .file, size: size, files: 1, id: m)])
            // Every level claims one file, as the pointer does.
            for _ in 0..<40 {
                id = try p.tree([TreeEntry(name: "a", kind: .directory, size: size, files: 1, id: id),
                                 TreeEntry(name: "b", kind: .directory, size: size, files: 1, id: id)])
            }
            return (id, size, 1)
        }
        try expectRefusedEverywhere(s, mentions: ["files"])
    }

    @Test func aDAGBombOfEmptyFoldersIsRefused() throws {
        // No file at all, so the declared counts (0) bound nothing: 2^41 empty folders.
        let s = try hostileFolder { p in
            var id = try p.tree([])
            for _ in 0..<40 {
                id = try p.tree([TreeEntry(name: "a", kind: .directory, size: 0, files: 0, id: id),
                                 TreeEntry(name: "b", kind: .directory, size: 0, files: 0, id: id)])
            }
            return (id, 0, 0)
        }
        try expectRefusedEverywhere(s, mentions: ["folders"])
    }

    @Test func workingFoldersDeeperThanTheLimitAreRefusedAtTrackAndCommit() throws {
        let s = try Sandbox()
        // data/ plus 255 folders: 256 trees, the limit, stored and read back.
        let fine = Array(repeating: "d", count: 255).joined(separator: "/")
        try s.write("data/" + fine + "/f.txt", "deep\n")
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "deep")
        #expect(try s.mlvOK("ls", "HEAD").stdout.contains("f.txt"))
        // One more level: refused when committing (and when tracking a fresh folder).
        try s.write("data/" + fine + "/d/g.txt", "deeper\n")
        expectRefusal(try mlvTimed(s, ["commit", "-m", "deeper"]), "commit", status: 2, mentions: ["256 folders deep"])
        try s.write("more/" + fine + "/d/g.txt", "deeper\n")
        expectRefusal(try mlvTimed(s, ["track", "more"]), "track", status: 2, mentions: ["256 folders deep"])
        #expect(!s.exists("more.mlv"))
    }

    @Test func aSnapshotWithPathsPastPATHMAXIsRefusedBeforeCheckoutCreatesAFolder() throws {
        // 20 levels of 250-byte names: a 5 KB path, which no system call takes.
        let s = try hostileFolder { p in
            let (m, size) = try p.manifest([Array("x".utf8)])
            var id = try p.tree([TreeEntry(name: "f", kind: .file, size: size, files: 1, id: m)])
            for i in 0..<20 {
                id = try p.tree([TreeEntry(name: String(repeating: Character(UnicodeScalar(UInt8(97 + i))), count: 250),
                                           kind: .directory, size: size, files: 1, id: id)])
            }
            return (id, size, 1)
        }
        let before = listing(s.repo + "/data")
        expectRefusal(try mlvTimed(s, ["checkout"]), "checkout", status: 2, mentions: ["data", "PATH_MAX"])
        #expect(listing(s.repo + "/data") == before)
        // Listing it is fine: nothing is written.
        #expect(try s.mlvOK("ls", "HEAD").stdout.contains("/f"))
    }

    @Test func aManifestBiggerThanItsEntrySaysIsRefused() throws {
        // The tree's totals add up, but the file's manifest describes 1 MB, not 1 byte: a
        // manifest repeating one 256 MiB chunk could describe petabytes.
        let s = try hostileFolder { p in
            let (m, _) = try p.manifest([noise(1_000_000, seed: 9)])
            return (try p.tree([TreeEntry(name: "f", kind: .file, size: 1, files: 1, id: m)]), 1, 1)
        }
        let before = listing(s.repo + "/data")
        expectRefusal(try mlvTimed(s, ["checkout"]), "checkout", mentions: ["data/f", "1 byte,", "1000000"])
        #expect(listing(s.repo + "/data") == before)
        expectRefusal(try mlvTimed(s, ["show", "HEAD:data/f"]), "show", mentions: ["data/f", "1000000"])
        // The same for a file target: its pointer's size bounds it.
        let p = try Planter(s)
        let (m, _) = try p.manifest([noise(1_000_000, seed: 9)])
        try p.commit()
        try commitPointer(s, "one.bin", dir: false, snapshot: m, size: 1, files: 1)
        try s.git("rm", "-q", "--cached", "data.mlv")
        try s.git("commit", "-q", "-m", "only one.bin")
        expectRefusal(try mlvTimed(s, ["checkout", "--", "one.bin"]), "checkout one.bin", mentions: ["one.bin", "1000000"])
        #expect(!s.exists("one.bin"))
        expectRefusal(try mlvTimed(s, ["show", "HEAD:one.bin"]), "show one.bin", mentions: ["one.bin", "1000000"])
    }
}
