import Foundation
import Glibc

/// Every temporary folder of one test process lives under this one, removed when the
/// process exits, so a test run leaves nothing behind in /tmp. Set MLV_KEEP_SCRATCH=1 to
/// keep it for a look after a failure (its path is printed then).
public let testScratch: String = {
    let dir = NSTemporaryDirectory() + "mlv-tests-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    if ProcessInfo.processInfo.environment["MLV_KEEP_SCRATCH"] == "1" {
        print("test scratch kept in \(dir)")
    } else {
        atexit {
            // Stages leave read-only inputs behind: make everything writable, then remove.
            _ = system("chmod -R u+w '\(NSTemporaryDirectory())mlv-tests-\(getpid())' 2>/dev/null; rm -rf '\(NSTemporaryDirectory())mlv-tests-\(getpid())'")
        }
    }
    return dir
}()

/// A new folder under `testScratch`.
public func scratchDirectory(_ name: String) -> String {
    let path = testScratch + "/\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
