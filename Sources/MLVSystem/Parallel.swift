// Threads for the hot paths: a fixed fan-out and a box for handing disjoint state to workers.
import Dispatch

/// Runs `body(0..<n)` on `n` threads (the caller's among them) and returns when all are done.
public func parallel(_ n: Int, _ body: @Sendable (Int) -> Void) {
    if n <= 1 { body(0); return }
    DispatchQueue.concurrentPerform(iterations: n, execute: body)
}

/// Hands a value to worker threads that touch disjoint parts of it.
public struct SendableBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
