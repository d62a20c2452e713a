import Dispatch
import Foundation
import MLVSystem
import MLVTestSupport
import Synchronization
import Testing
@testable import MLVStore

/// `Store.location` from several threads while one of them merges the index files into the
/// table (after `rawLookupLimit` lookups): a lookup must never miss an object the store
/// holds (remote fsck and verification look bases up from parallel workers). 300 rounds: a
/// thread that replaced the raw index files with the none it had left to read showed in about
/// half of the runs of 1,500 rounds on a loaded machine, and in CI.
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
        let errors = Mutex<[String]>([])
        for round in 0..<300 {
            let store = try Store(root: root)
            DispatchQueue.concurrentPerform(iterations: 4) { t in
                // Each thread starts at another place, so some look up objects of files
                // another thread is registering.
                for k in 0..<400 {
                    let id = all[(t * 1999 + k * 97 + round * 13) % all.count]
                    do {
                        if try store.location(of: id) == nil { misses.withLock { $0 += 1 } }
                    } catch {
                        errors.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        #expect(misses.withLock { $0 } == 0, "lookups that said 'not stored'")
        #expect(errors.withLock { $0 }.isEmpty, "\(errors.withLock { Array($0.prefix(3)) })")
    }
}
