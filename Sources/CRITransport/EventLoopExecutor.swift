import NIOCore

/// A task executor that runs jobs on one NIO event loop. A task that prefers it, and its child
/// tasks, run their nonisolated code on that loop's thread, so a gRPC stream's code and the
/// channel I/O it waits for share one thread instead of handing every step across to the other.
public final class EventLoopExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
