import Dispatch
import Foundation

/// SIGTERM and SIGINT cancel a daemon's task (which then shuts down its way); the handlers stay
/// installed until `cancel()`.
struct TerminationSignals {
    private let sources: [DispatchSourceSignal]

    init(cancelling task: Task<Void, any Error>) {
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
    }
}
