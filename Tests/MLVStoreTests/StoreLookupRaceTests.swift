import Dispatch
import Foundation
import MLVSystem
import MLVTestSupport
import Synchronization
import Testing
@testable import MLVStore

/// `Store.location` from several threads while one of them merges the index files into the
/// table (after `rawLookupLimit` lookups): a lookup must never miss an object the store
/// holds (remote fsck and verification look bases up from parallel workers).
@Suite struct StoreLookupRaceTests {
    @Test func concurrentLookupsNeverMissAnObjectWhileTheIndexLoads() throws {
        let root = tempDir("race")
        var ids: [ObjectID] = []
        do {
            let store = try Store(root: root)
            for f in 0..<40 {
                let w = try store.writer(compressionLevel: 1)
                for k in 0..<200 { ids.append(try w.addObject(Array("object \(f) \(k)".utf8), type: .chunk)) }
                try w.commit()
            }
        }
        let all = ids
        let misses = Mutex(0)
        for round in 0..<60 {
            let store = try Store(root: root)
            DispatchQueue.concurrentPerform(iterations: 4) { t in
                // Each thread starts at another place, so some look up objects of files
                // another thread is registering.
                for k in 0..<400 {
                    let id = all[(t * 1999 + k * 97 + round * 13) % all.count]
                    if (try? store.location(of: id)) == nil { misses.withLock { $0 += 1 } }
                }
            }
        }
        #expect(misses.withLock { $0 } == 0)
    }
}
