import MLVSystem
import MLVTestSupport
import Testing
import MLVRemote
import MLVStore

/// Push and fetch through `Sync` against the in-memory transport: what arrives, in which
/// order, and what an interrupted transfer leaves behind.
@Suite struct SyncTests {
    /// A store holding `sessions` packs of `perPack` distinct objects each; returns it and
    /// the objects' contents by id.
    static func filledStore(sessions: Int, perPack: Int = 5) throws -> (Store, [ObjectID: [UInt8]]) {
        let store = try Store(root: scratchDirectory("h-store-sync"))
        var objects: [ObjectID: [UInt8]] = [:]
        for s in 0..<sessions {
            let w = try store.writer(compressionLevel: 1)
            for i in 0..<perPack {
                let bytes = Array("session \(s) object \(i) ".utf8) + [UInt8](repeating: UInt8(i), count: 100 * (i + 1))
                objects[try w.addObject(bytes, type: .chunk)] = bytes
            }
            try w.commit()
        }
        return (store, objects)
    }

    static func indexed(_ t: any Transport, _ store: Store) throws -> (packs: Set<ObjectID>, objects: Set<ObjectID>) {
        var packs = Set<ObjectID>(), objects = Set<ObjectID>()
        for idx in try Sync.indexes(of: t, store: store, cacheDir: FS.join(store.root, "cache"), strict: true) {
            packs.formUnion(idx.packs)
            for (id, _, _) in idx.entries { objects.insert(id) }
        }
        return (packs, objects)
    }

    @Test func pushThenFetchCarriesEveryObject() throws {
        let (local, objects) = try Self.filledStore(sessions: 2)
        let remote = MemoryTransport()
        let packs = Set(try local.knownPacks())
        let pushed = try Sync.push(local, needed: packs, indexed: [], to: remote)
        #expect(pushed.packs == 2 && pushed.alreadyThere == 0)
        #expect(Set(try remote.packFiles().keys) == packs)
        // Packs first, then the one index that lists them.
        #expect(remote.uploads.count == 3)
        #expect(remote.uploads.last.flatMap(Layout.indexName(rel:)) != nil)
        #expect(remote.uploads.dropLast().allSatisfy { Layout.packID(rel: $0) != nil })

        let clone = try Store(root: scratchDirectory("h-store-clone"))
        let there = try Self.indexed(remote, clone)
        #expect(there.objects == Set(objects.keys))
        let got = try Sync.fetch(there.packs, sizes: try remote.packFiles(), from: remote, into: clone)
        #expect(got == (try remote.packFiles().values.reduce(0, +)))
        let reopened = try Store(root: clone.root)
        for (id, bytes) in objects { #expect(try reopened.readObject(id, type: .chunk) == bytes) }

        // A second push finds everything there and sends nothing.
        let again = try Sync.push(local, needed: packs, indexed: try Self.indexed(remote, local).packs, to: remote)
        #expect(again.packs == 0 && again.bytes == 0 && again.alreadyThere == 2)
        #expect(remote.uploads.count == 3)
    }

    @Test func interruptedPushLeavesNoIndexOfMissingPacks() throws {
        let (local, _) = try Self.filledStore(sessions: 2)
        let remote = MemoryTransport()
        remote.failUploads { Layout.indexName(rel: $0) != nil }
        #expect(throws: TransportError.self) { try Sync.push(local, needed: Set(try local.knownPacks()), indexed: [], to: remote) }
        // The packs arrived, no index did: the remote lists nothing it lacks.
        #expect(try remote.packFiles().count == 2)
        #expect(try remote.indexFiles().isEmpty)
        // The next push re-sends no pack, only the index.
        remote.failUploads { _ in false }
        let pushed = try Sync.push(local, needed: Set(try local.knownPacks()), indexed: [], to: remote)
        #expect(pushed.packs == 0 && pushed.alreadyThere == 2)
        #expect(try remote.indexFiles().count == 1)
    }

    @Test func interruptedFetchLeavesAUsableStore() throws {
        let (local, objects) = try Self.filledStore(sessions: 2)
        let remote = MemoryTransport()
        _ = try Sync.push(local, needed: Set(try local.knownPacks()), indexed: [], to: remote)
        let clone = try Store(root: scratchDirectory("h-store-clone"))
        let there = try Self.indexed(remote, clone)
        let failing = there.packs.sorted()[1]
        remote.failDownloads { $0 == Layout.packRel(failing) }
        #expect(throws: TransportError.self) {
            try Sync.fetch(there.packs, sizes: try remote.packFiles(), from: remote, into: clone)
        }
        // What arrived is whole and indexed; what did not is absent, not half there.
        let reopened = try Store(root: clone.root)
        #expect(try reopened.verify().problems.isEmpty)
        let arrived = try objects.keys.filter { try reopened.contains($0) }
        #expect(arrived.count == 5)
        for id in arrived { #expect(try reopened.readObject(id, type: .chunk) == objects[id]) }
        #expect(try FS.list(clone.tmpDir).isEmpty)
    }

    @Test func damagedRemotePackIsRefused() throws {
        let (local, _) = try Self.filledStore(sessions: 1)
        let remote = MemoryTransport()
        _ = try Sync.push(local, needed: Set(try local.knownPacks()), indexed: [], to: remote)
        let pack = try #require(try local.knownPacks().first)
        var files = remote.contents
        files[Layout.packRel(pack)]?[PackFormat.packHeaderSize + PackFormat.entryHeaderSize + 3] ^= 0xFF
        remote.contents = files
        let clone = try Store(root: scratchDirectory("h-store-clone"))
        #expect(throws: TransportError.self) {
            try Sync.fetch([pack], sizes: try remote.packFiles(), from: remote, into: clone)
        }
        #expect(try Store(root: clone.root).knownPacks().isEmpty)
    }
}
