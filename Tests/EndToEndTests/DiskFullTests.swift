import Foundation
import MLVTestSupport
import Testing

/// Commit, checkout and pull on a filesystem that fills up (a small tmpfs mounted over the
/// sandbox's repository; needs root, as CI runs): a one-line error, exit 5, nothing
/// corrupted, nothing half-written left in place, and success once there is room again.
@Suite struct DiskFullTests {
    /// A sandbox whose repository lives on a tmpfs of `mib` MiB, unmounted by `done`.
    func smallDisk(_ mib: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> Sandbox {
        let s = try Sandbox(initMLV: false)
        let r = try s.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(mib)m", "tmpfs", s.repo], cwd: s.root)
        guard r.status == 0 else {
            Issue.record("cannot mount a \(mib) MiB tmpfs (\(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))): the disk-full tests need root, as CI has", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try s.git("init", "-q", "-b", "main")
        try s.mlvOK("init")
        return s
    }

    func done(_ s: Sandbox) { _ = try? s.run("/bin/umount", ["-l", s.repo], cwd: s.root) }

    func expectDiskFull(_ r: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 5, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("No space left on device"), "\(r.stderr)", sourceLocation: sourceLocation)
    }

    /// Files under .mlv/store/tmp and mlv temp names anywhere in the repository.
    func leftovers(_ s: Sandbox) -> [String] {
        let all = (try? FileManager.default.subpathsOfDirectory(atPath: s.repo)) ?? []
        return all.filter { $0.hasPrefix(".mlv/store/tmp/") || $0.contains(".mlv-tmp-") }
    }

    func fsckClean(_ s: Sandbox, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try s.mlv("fsck")
        #expect(r.status == 0, "\(r.stdout)", sourceLocation: sourceLocation)
    }

    /// Issue 16 #6: with the store's writes fitting and git's not, `mlv commit` printed a
    /// commit id and exited 0 while HEAD never moved. Every free-space level between "nothing
    /// fits" and "everything fits" must give either a commit at HEAD (exit 0) or exit 5 with
    /// HEAD where it was — and `status` must then not say clean.
    @Test func commitNeverReportsACommitGitDidNotRecord() throws {
        let s = try smallDisk(8)
        defer { done(s) }
        try s.write("a.txt", "a\n")
        try s.mlvOK("track", "a.txt")
        try s.mlvOK("commit", "-m", "r0")
        var outcomes: [Int32] = []
        for free in stride(from: 4, through: 48, by: 4) {
            _ = try? FileManager.default.removeItem(atPath: s.repo + "/fill")
            let avail = try s.run("/bin/df", ["--output=avail", s.repo]).stdout.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
            try s.write("fill", [UInt8](repeating: 0, count: max(0, avail - free) * 1024))
            try s.write("a.txt", "a\nline \(free)\n")
            let before = try s.head()
            let r = try s.mlv("commit", "-m", "r\(free)")
            let after = try s.head()
            outcomes.append(r.status)
            if r.status == 0 {
                let printed = Sandbox.commitID(r.stdout)
                #expect(printed != nil && after.hasPrefix(printed!), "free \(free) KiB: exit 0 but HEAD is \(after), printed \(r.stdout)")
            } else {
                #expect(r.status == 5, "free \(free) KiB: exit \(r.status): \(r.stderr)")
                #expect(after == before, "free \(free) KiB: failed but HEAD moved")
                let st = try s.mlv("status", "--exit-code")
                #expect(st.status == 1, "free \(free) KiB: status says clean after a failed commit: \(st.stdout)")
            }
        }
        #expect(outcomes.contains(0) && outcomes.contains(5), "the sweep should cross from failing to succeeding: \(outcomes)")
    }

    @Test func commitOnAFullDisk() throws {
        let s = try smallDisk(16)
        defer { done(s) }
        try s.write("data/small.csv", csv(rows: 200))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        let head = try s.head()
        // 10 MiB that does not compress: the store would need another 10 MiB, there are ~6.
        try s.write("data/big.bin", noise(10 << 20, seed: 50))
        expectDiskFull(try s.mlv("commit", "-m", "v2"))
        #expect(try s.head() == head)
        #expect(leftovers(s).isEmpty, "\(leftovers(s))")
        try fsckClean(s)
        #expect(try s.mlvOK("status").stdout.contains("modified"))
        // Room again: the same commit goes through.
        try FileManager.default.removeItem(atPath: s.repo + "/data/small.csv")
        try s.write("data/big.bin", noise(5 << 20, seed: 50))
        try s.mlvOK("commit", "-m", "v2")
        #expect(sameBytes(try s.shown("HEAD:data/big.bin"), noise(5 << 20, seed: 50)))
        try fsckClean(s)
    }

    @Test func checkoutOnAFullDisk() throws {
        let s = try smallDisk(24)
        defer { done(s) }
        try s.write("data/a.bin", noise(4 << 20, seed: 51))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        try s.git("tag", "v1")
        try s.write("data/a.bin", noise(4 << 20, seed: 52))
        try s.mlvOK("commit", "-m", "v2")
        // Fill the disk but for 1 MiB: the 4 MiB of v1 cannot be written next to v2.
        let free = try FileManager.default.attributesOfFileSystem(forPath: s.repo)[.systemFreeSize] as! Int
        try s.write("filler", noise(free - (1 << 20), seed: 53))
        expectDiskFull(try s.mlv("checkout", "v1"))
        #expect(sameBytes(s.read("data/a.bin"), noise(4 << 20, seed: 52)))       // wholly the old version
        #expect(try s.git("rev-parse", "HEAD").stdout == (try s.git("rev-parse", "main").stdout))
        #expect(leftovers(s).isEmpty, "\(leftovers(s))")
        try fsckClean(s)
        try FileManager.default.removeItem(atPath: s.repo + "/filler")
        try s.mlvOK("checkout", "v1")
        #expect(sameBytes(s.read("data/a.bin"), noise(4 << 20, seed: 51)))
    }

    @Test func pullOnAFullDisk() throws {
        // The remote and the first repository on the normal disk; the clone on a small one.
        let origin = try Sandbox()
        try origin.write("data/a.bin", noise(8 << 20, seed: 54))
        try origin.mlvOK("track", "data")
        try origin.mlvOK("commit", "-m", "v1")
        try origin.mlvOK("remote", "add", "origin", origin.root + "/remote", "--create")
        try origin.git("commit", "-q", "-m", "remote")
        try origin.mlvOK("push")
        let s = try smallDisk(6)
        defer { done(s) }
        for f in try FileManager.default.contentsOfDirectory(atPath: s.repo) { try FileManager.default.removeItem(atPath: s.repo + "/" + f) }
        try s.git("clone", "-q", origin.repo, s.repo, cwd: s.root)
        // 6 MiB: the 8 MiB pack does not fit.
        expectDiskFull(try s.mlv("pull"))
        #expect(!s.exists("data/a.bin") && leftovers(s).isEmpty, "\(leftovers(s))")
        try fsckClean(s)
        // 12 MiB: the pack fits, the working file next to it does not.
        _ = try s.run("/bin/mount", ["-o", "remount,size=12m", s.repo], cwd: s.root)
        expectDiskFull(try s.mlv("pull"))
        #expect(!s.exists("data/a.bin") && leftovers(s).isEmpty, "\(leftovers(s))")
        try fsckClean(s)
        // Room for both: the pull completes, byte for byte.
        _ = try s.run("/bin/mount", ["-o", "remount,size=32m", s.repo], cwd: s.root)
        try s.mlvOK("pull")
        #expect(sameBytes(s.read("data/a.bin"), noise(8 << 20, seed: 54)))
        try fsckClean(s)
    }
}
