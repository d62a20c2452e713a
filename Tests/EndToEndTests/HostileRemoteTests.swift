import MLVSystem
import Foundation
import Glibc
import MLVStore
import MLVTestSupport
import MLVZstd
import Testing

/// The result of a command that may hang: `timedOut` when it was killed after the deadline.
struct BoundedRun {
    var status: Int32
    var stderr: String
    var timedOut: Bool
    /// Peak resident set size in KiB (from /usr/bin/time), when measured.
    var maxRSSKiB: Int?
}

extension Sandbox {
    /// Runs mlv, killing it (SIGKILL) after `seconds`: a hang fails the test instead of
    /// blocking the suite. With `measure`, runs it under /usr/bin/time for its peak RSS.
    func mlvBounded(_ args: [String], cwd: String? = nil, seconds: Double = 30, measure: Bool = false) throws -> BoundedRun {
        let p = Process()
        let errPath = root + "/stderr-" + UUID().uuidString
        let rssPath = root + "/rss-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        if measure {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/time")
            p.arguments = ["-f", "%M", "-o", rssPath, mlvBinary] + args
        } else {
            p.executableURL = URL(fileURLWithPath: mlvBinary)
            p.arguments = args
        }
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? repo)
        p.environment = environment
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(p.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        p.waitUntilExit()
        let err = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        let rss = (try? String(contentsOfFile: rssPath, encoding: .utf8))
            .flatMap { $0.split(separator: "\n").last.flatMap { Int($0.trimmed) } }
        return BoundedRun(status: p.terminationStatus, stderr: err, timedOut: timedOut, maxRSSKiB: rss)
    }
}

/// Every pack file of a directory remote (or store), relative to its packs/ folder.
func packFiles(_ dir: String) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: dir + "/packs").filter { $0.hasSuffix(".pack") }.sorted()
}

/// A pushed repository and a clone of its git history without the data.
func pushedWithClone(_ targets: [(String, [UInt8])]) throws -> (Sandbox, String) {
    let s = try repositoryWithRemote(targets)
    try s.mlvOK("push")
    let clone = s.root + "/clone"
    try s.git("clone", "-q", s.repo, clone, cwd: s.root)
    return (s, clone)
}

/// Sets a file's modification time `seconds` in the past (without following a symlink).
func age(_ path: String, seconds: Int) {
    var times = [timespec(tv_sec: time(nil) - seconds, tv_nsec: 0), timespec(tv_sec: time(nil) - seconds, tv_nsec: 0)]
    _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
}

/// Remotes whose files are not what mlv wrote: symlinks, FIFOs, huge files, zstd bombs.
@Suite struct HostileRemoteTests {
    /// Finding 4: push removed every file over an hour old in `<remote>/tmp`, following a
    /// symlinked tmp folder out of the remote.
    @Test func pushCleansOnlyItsOwnStaleTempFilesAndNeverThroughASymlink() throws {
        let s = try repositoryWithRemote([("data/a.bin", noise(50_000, seed: 1))])
        try s.mlvOK("push")
        let remote = s.root + "/remote"
        // An outside folder the remote's tmp points to, holding an old file.
        let outside = s.root + "/precious"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try s.write("old-notes.txt", Array("keep me".utf8), in: outside)
        age(outside + "/old-notes.txt", seconds: 7200)
        try FileManager.default.removeItem(atPath: remote + "/tmp")
        try FileManager.default.createSymbolicLink(atPath: remote + "/tmp", withDestinationPath: outside)
        try s.write("data/b.bin", noise(50_000, seed: 2))
        try s.mlvOK("track", "data/b.bin")
        try s.mlvOK("commit", "-m", "b")
        _ = try s.mlv("push")
        #expect(FileManager.default.fileExists(atPath: outside + "/old-notes.txt"), "push deleted a file outside the remote")

        // A real tmp folder: an old file of another program stays, an old partial upload of
        // mlv goes, a symlink's target is left alone.
        try FileManager.default.removeItem(atPath: remote + "/tmp")
        try FileManager.default.createDirectory(atPath: remote + "/tmp", withIntermediateDirectories: true)
        try s.write("tmp/someone-elses.txt", Array("mine".utf8), in: remote)
        age(remote + "/tmp/someone-elses.txt", seconds: 7200)
        let partial = String(repeating: "ab", count: 32) + ".pack.123.456"
        try s.write("tmp/" + partial, Array("partial".utf8), in: remote)
        age(remote + "/tmp/" + partial, seconds: 7200)
        try FileManager.default.createSymbolicLink(atPath: remote + "/tmp/" + String(repeating: "cd", count: 32) + ".pack.1.2",
                                                   withDestinationPath: outside + "/old-notes.txt")
        age(remote + "/tmp/" + String(repeating: "cd", count: 32) + ".pack.1.2", seconds: 7200)
        try s.write("data/c.bin", noise(50_000, seed: 3))
        try s.mlvOK("track", "data/c.bin")
        try s.mlvOK("commit", "-m", "c")
        try s.mlvOK("push")
        #expect(FileManager.default.fileExists(atPath: remote + "/tmp/someone-elses.txt"))
        #expect(!FileManager.default.fileExists(atPath: remote + "/tmp/" + partial))
        #expect(FileManager.default.fileExists(atPath: outside + "/old-notes.txt"))
    }

    /// Finding 4: a committed relative URL (`url: ../elsewhere`) pointed push at a folder
    /// outside any remote. It is refused; `mlv remote add` stores an absolute path.
    @Test func aRelativeRemoteURLInMlvYamlIsRefusedAndRemoteAddStoresAnAbsolutePath() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(10_000, seed: 1))
        try s.mlvOK("track", "data/a.bin")
        try s.mlvOK("commit", "-m", "v1")
        try FileManager.default.createDirectory(atPath: s.repo + "/sub", withIntermediateDirectories: true)
        try s.mlvOK("remote", "add", "origin", "../../store", "--create", cwd: s.repo + "/sub")
        let yaml = String(decoding: s.read("mlv.yaml") ?? [], as: UTF8.self)
        #expect(yaml.contains("url: \(s.root)/store"), "\(yaml)")
        try s.mlvOK("push")
        #expect(try !packFiles(s.root + "/store").isEmpty)

        // A hand-written (or hostile) relative URL.
        try s.write("mlv.yaml", yaml.replacingOccurrences(of: "\(s.root)/store", with: "../elsewhere"))
        let r = try s.mlv("push")
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("remote origin") && r.stderr.contains("../elsewhere") && r.stderr.contains("mlv remote add"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: s.root + "/elsewhere"))
    }

    /// Finding 11: a FIFO in the remote made pull block forever in open(), holding the lock.
    @Test func fifosInARemoteNeverBlock() throws {
        let (s, clone) = try pushedWithClone([("data/a.bin", noise(100_000, seed: 1))])
        let remote = s.root + "/remote"
        // A FIFO posing as an index is skipped: the real index still serves the pull.
        #expect(mkfifo(remote + "/index/" + String(repeating: "e", count: 64) + ".idx", 0o644) == 0)
        let pulled = try s.mlvBounded(["pull"], cwd: clone, seconds: 20)
        #expect(!pulled.timedOut, "mlv pull blocked on a FIFO index")
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(s.read("data/a.bin", in: clone) == noise(100_000, seed: 1))

        // A FIFO in place of the pack: a clear error naming the remote path, no hang.
        let (s2, clone2) = try pushedWithClone([("data/a.bin", noise(100_000, seed: 2))])
        let pack = try packFiles(s2.root + "/remote")[0]
        try FileManager.default.removeItem(atPath: s2.root + "/remote/packs/" + pack)
        #expect(mkfifo(s2.root + "/remote/packs/" + pack, 0o644) == 0)
        let r = try s2.mlvBounded(["pull"], cwd: clone2, seconds: 20)
        #expect(!r.timedOut, "mlv pull blocked on a FIFO pack")
        #expect(r.status != 0)
        #expect(r.stderr.contains(s2.root + "/remote/packs/" + pack), "\(r.stderr)")
        let f = try s2.mlvBounded(["fsck", "--remote", "origin"], cwd: clone2, seconds: 20)
        #expect(!f.timedOut, "mlv fsck --remote blocked on a FIFO pack")
    }

    /// Finding 11: an index file far larger than any index is refused before it is read.
    @Test func aHugeRemoteIndexIsRefusedWithoutReadingIt() throws {
        let (s, clone) = try pushedWithClone([("data/a.bin", noise(10_000, seed: 1))])
        let huge = s.root + "/remote/index/" + String(repeating: "f", count: 64) + ".idx"
        _ = FileManager.default.createFile(atPath: huge, contents: nil)
        #expect(truncate(huge, off_t(1 << 30) + 1) == 0)   // sparse: no disk used
        let r = try s.mlvBounded(["fetch"], cwd: clone, seconds: 60, measure: true)
        #expect(!r.timedOut)
        #expect(r.status == 4, "\(r.stderr)")
        #expect(r.stderr.contains(huge), "\(r.stderr)")
        #expect((r.maxRSSKiB ?? .max) < 200_000, "fetch used \(r.maxRSSKiB ?? -1) KiB")
        #expect(try FileManager.default.contentsOfDirectory(atPath: clone + "/.mlv/store/tmp").isEmpty)
    }

    /// Finding 14: packs of tiny zstd frames declaring 256 MiB each pushed fetch past 1.4 GB.
    /// Verification streams: memory stays bounded whatever the entries declare.
    @Test func zstdBombPacksDoNotExhaustMemory() throws {
        let targets = (0..<4).map { ("data/t\($0).bin", noise(5_000, seed: UInt64($0))) }
        let (s, clone) = try pushedWithClone(targets)
        let remote = s.root + "/remote"
        // The objects the clone's pointers name, from the remote's index.
        let indexNames = try FileManager.default.contentsOfDirectory(atPath: remote + "/index")
        var ids: [(ObjectID, ObjectType)] = []
        for n in indexNames {
            let idx = try decodeIndex([UInt8](FileManager.default.contents(atPath: remote + "/index/" + n)!), path: n)
            ids += idx.entries.map { ($0.0, $0.2.type) }
            try FileManager.default.removeItem(atPath: remote + "/index/" + n)
        }
        for p in try packFiles(remote) { try FileManager.default.removeItem(atPath: remote + "/packs/" + p) }
        // One bomb pack per object: three entries, each a frame of 256 MiB of zeros.
        let raw = PackFormat.maxObjectSize
        let zeros = [UInt8](repeating: 0, count: raw)
        var frame = [UInt8](repeating: 0, count: zstdCompressBound(raw))
        let n = try zeros.withUnsafeBytes { src in try frame.withUnsafeMutableBytes { try ZstdCompressor(level: 1).compress(src, into: $0) } }
        frame.removeLast(frame.count - n)
        // The index (man/mlv-store.5): header, pack ids, then 56-byte entries sorted by id.
        var bombs: [(pack: ObjectID, id: ObjectID, type: ObjectType, offset: UInt64)] = []
        var total = 0
        for (id, type) in ids {
            var pack = PackFormat.packMagic
            pack.appendLE(PackFormat.version)
            pack.appendLE(UInt32(0))
            var hashed = pack
            var first: UInt64 = 0
            for k in 0..<3 {
                let eid = k == 0 ? id : ObjectID.hash(Array("filler \(k) \(id.hex)".utf8))
                var h = eid.bytes
                h += [type.rawValue, Encoding.zstd.rawValue, 0, 0]
                h.appendLE(UInt32(raw))
                h.appendLE(UInt32(frame.count))
                if k == 0 { first = UInt64(pack.count) }
                pack += h
                hashed += h
                pack += frame
            }
            let pid = ObjectID.hash(hashed)
            try FileManager.default.createDirectory(atPath: remote + "/packs/" + pid.hex.prefix(2), withIntermediateDirectories: true)
            try Data(pack).write(to: URL(fileURLWithPath: remote + "/packs/\(pid.hex.prefix(2))/\(pid.hex).pack"))
            bombs.append((pid, id, type, first))
            total += pack.count
        }
        bombs.sort { $0.id < $1.id }
        var index = PackFormat.indexMagic
        index.appendLE(PackFormat.version)
        index.appendLE(UInt32(bombs.count))
        index.appendLE(UInt32(bombs.count))
        for b in bombs { index += b.pack.bytes }
        for (n, b) in bombs.enumerated() {
            index += b.id.bytes
            index.appendLE(UInt32(n))
            index.appendLE(b.offset)
            index.appendLE(UInt32(frame.count))
            index.appendLE(UInt32(raw))
            index += [b.type.rawValue, Encoding.zstd.rawValue, 0, 0]
        }
        try Data(index).write(to: URL(fileURLWithPath: remote + "/index/" + indexFileName(index)))
        #expect(total < 400_000)
        let r = try s.mlvBounded(["fetch"], cwd: clone, seconds: 120, measure: true)
        print("zstd bomb: \(total) bytes of packs, mlv fetch peak RSS \(r.maxRSSKiB ?? -1) KiB")
        #expect(!r.timedOut)
        #expect(r.status == 4, "\(r.stderr)")
        #expect(r.stderr.contains(remote + "/packs/"), "\(r.stderr)")
        #expect((r.maxRSSKiB ?? .max) < 150_000, "fetch peaked at \(r.maxRSSKiB ?? -1) KiB on \(total) bytes of packs")
    }

    /// Partial downloads of a stalled or killed fetch were never removed from .mlv/store/tmp,
    /// not even by gc or fsck --repair: stale ones (mlv's names, over an hour old or of a
    /// process that is gone) go now.
    @Test func staleStoreTemporariesAreRemovedByFetchGcAndRepair() throws {
        for command in [["fetch"], ["gc"], ["fsck", "--repair"]] {
            let (s, clone) = try pushedWithClone([("data/a.bin", noise(10_000, seed: 1))])
            let tmp = clone + "/.mlv/store/tmp"
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            let stale = ["fetch-123-\(String(repeating: "a", count: 64)).pack", "remote-77-9-x.idx", "pack-5-42", "push-9.idx"]
            // Young and its process alive (this test's): kept. Young and its process gone: removed.
            let young = "fetch-\(getpid())-young.pack"
            let gone = Process()
            gone.executableURL = URL(fileURLWithPath: "/bin/true")
            try gone.run()
            gone.waitUntilExit()
            let killed = "pack-\(gone.processIdentifier)-3"
            let kept = [young, "notes.txt", "fetchy-1-x"]
            for n in stale + kept + [killed] { try s.write(n, Array("partial".utf8), in: tmp) }
            for n in stale + kept where n != young { age(tmp + "/" + n, seconds: 7200) }
            let r = try s.run(mlvBinary, command, cwd: clone)
            #expect(r.status == 0, "\(command): \(r.stderr)")
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: tmp))
            #expect(left.isDisjoint(with: stale + [killed]), "\(command): \(left)")
            #expect(Set(kept).isSubset(of: left), "\(command): \(left)")
        }
    }

    /// A corrupt or truncated remote pack is the remote's damage (exit 4), named by its path
    /// on the remote, not the local temp file, and not blamed on the local store; a damaged
    /// remote index too.
    @Test func damagedRemoteFilesAreNamedOnTheRemote() throws {
        let (s, clone) = try pushedWithClone([("data/a.bin", noise(300_000, seed: 1))])
        let remote = s.root + "/remote"
        let pack = remote + "/packs/" + (try packFiles(remote))[0]
        let good = [UInt8](FileManager.default.contents(atPath: pack)!)
        try Data(good.prefix(good.count - 1000)).write(to: URL(fileURLWithPath: pack))
        let truncated = try s.mlv("fetch", cwd: clone)
        #expect(truncated.status == 4, "\(truncated.stderr)")
        #expect(truncated.stderr.contains(pack) && !truncated.stderr.contains(".mlv/store/tmp"), "\(truncated.stderr)")
        #expect(!truncated.stderr.contains("the store is damaged"), "\(truncated.stderr)")
        var flipped = good
        flipped[flipped.count - 10] ^= 1
        try Data(flipped).write(to: URL(fileURLWithPath: pack))
        let corrupt = try s.mlv("fetch", cwd: clone)
        #expect(corrupt.status == 4, "\(corrupt.stderr)")
        #expect(corrupt.stderr.contains(pack) && !corrupt.stderr.contains("the store is damaged"), "\(corrupt.stderr)")
        try Data(good).write(to: URL(fileURLWithPath: pack))
        let index = remote + "/index/" + (try FileManager.default.contentsOfDirectory(atPath: remote + "/index"))[0]
        var idx = [UInt8](FileManager.default.contents(atPath: index)!)
        idx[idx.count - 3] ^= 1
        try Data(idx).write(to: URL(fileURLWithPath: index))
        // A clone that has not cached that index yet.
        let clone2 = s.root + "/clone2"
        try s.git("clone", "-q", s.repo, clone2, cwd: s.root)
        let badIndex = try s.mlv("fetch", cwd: clone2)
        #expect(badIndex.status == 4, "\(badIndex.stderr)")
        #expect(badIndex.stderr.contains(index), "\(badIndex.stderr)")
    }
}
