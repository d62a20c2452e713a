import Foundation
import Glibc
import MLVSystem
import MLVTestSupport
import Testing
import MLVRemote
import MLVStore

/// The folder transport: what it lists, what it refuses, and a round trip through `Sync`.
@Suite struct DirectoryTransportTests {
    @Test func pushAndFetchThroughAFolder() throws {
        let (local, objects) = try SyncTests.filledStore(sessions: 1)
        let root = scratchDirectory("h-store-dir-remote")
        let remote = DirectoryTransport(root: root)
        try remote.prepare(forWriting: true)
        let packs = Set(try local.knownPacks())
        _ = try Sync.push(local, needed: packs, indexed: [], to: remote)
        #expect(Set(try remote.packFiles().keys) == packs)
        for p in packs { #expect(FS.exists(FS.join(root, Layout.packRel(p)))) }
        #expect(try remote.indexFiles().count == 1)
        #expect(try FS.list(FS.join(root, Layout.tmpDir)).isEmpty)

        let clone = try Store(root: scratchDirectory("h-store-clone"))
        let idx = try Sync.indexes(of: remote, store: clone, cacheDir: FS.join(clone.root, "cache"), strict: true)
        _ = try Sync.fetch(Set(idx.flatMap(\.packs)), sizes: try remote.packFiles(), from: remote, into: clone)
        for (id, bytes) in objects { #expect(try clone.readObject(id, type: .chunk) == bytes) }
    }

    @Test func listingsTakeOnlyWhatMLVWrites() throws {
        let root = scratchDirectory("h-store-dir-remote")
        let remote = DirectoryTransport(root: root)
        try remote.prepare(forWriting: true)
        let id = ObjectID.hash(Array("p".utf8))
        let wrongFolder = id.hex.hasPrefix("00") ? "01" : "00"
        try FS.makeDirectories(FS.join(root, "packs/\(wrongFolder)"))
        try FS.atomicWrite([1], to: FS.join(root, "packs/\(wrongFolder)/\(id.hex).pack"))   // misfiled
        try FS.makeDirectories(FS.join(root, "packs/\(Layout.packFolder(id))"))
        #expect(symlink("/etc/passwd", FS.join(root, Layout.packRel(id))) == 0)               // not a regular file
        try FS.atomicWrite([1], to: FS.join(root, "index/notes.txt"))
        #expect(try remote.packFiles().isEmpty)
        #expect(try remote.indexFiles().isEmpty)
        #expect(throws: TransportError.self) { try remote.download(Layout.packRel(id), to: FS.join(root, "x"), limit: 1 << 20) }
    }

    @Test func aMissingRootIsReportedAsSuch() throws {
        let remote = DirectoryTransport(root: scratchDirectory("h-store-dir-remote") + "/absent")
        #expect(throws: TransportError.missingRoot(path: remote.root)) { try remote.prepare(forWriting: false) }
    }
}
