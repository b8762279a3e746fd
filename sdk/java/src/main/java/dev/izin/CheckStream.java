package dev.izin;

import dev.izin.v1.ConsentServiceGrpc;
import dev.izin.v1.StreamCheckConsentsRequest;
import dev.izin.v1.StreamCheckConsentsResponse;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The answers of a {@code StreamCheckConsents} call, one per check and in the order of the checks.
 *
 * <p>Checks are read from the caller's iterator only as answers are consumed: at most {@code
 * window} checks are sent and not yet consumed at any time, so memory stays bounded however long
 * the list is. An item that failed on its own (e.g. a malformed recipient) carries its {@code
 * error}; see {@link IzinException#fromStatus}. A failure of the whole stream is thrown as an
 * {@link IzinException} from {@link #hasNext()} or {@link #next()}.
 *
 * <p>Close the stream (or use try-with-resources) to stop early; closing cancels the call.
 */
public final class CheckStream implements Iterator<StreamCheckConsentsResponse>, AutoCloseable {
  private static final Object END = new Object();

  private final Iterator<StreamCheckConsentsRequest> source;
  private final int window;
  private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
  private final Object lock = new Object();

  // Guarded by lock.
  private ClientCallStreamObserver<StreamCheckConsentsRequest> requests;
  private int inFlight;
  private long sent;
  private boolean halfClosed;
  private boolean cancelled;
  private RuntimeException sourceFailure;

  // Consumer thread only.
  private StreamCheckConsentsResponse next;
  private long received;
  private boolean done;

  CheckStream(
      ConsentServiceGrpc.ConsentServiceStub stub,
      Iterator<StreamCheckConsentsRequest> source,
      int window) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be at least 1");
    }
    this.source = source;
    this.window = window;
    stub.streamCheckConsents(new Observer());
    pump();
  }

  private final class Observer
      implements ClientResponseObserver<StreamCheckConsentsRequest, StreamCheckConsentsResponse> {
    @Override
    public void beforeStart(ClientCallStreamObserver<StreamCheckConsentsRequest> r) {
      synchronized (lock) {
        requests = r;
      }
      r.setOnReadyHandler(CheckStream.this::pump);
    }

    @Override
    public void onNext(StreamCheckConsentsResponse value) {
      answers.add(value);
    }

    @Override
    public void onError(Throwable t) {
      answers.add(IzinException.from(t));
    }

    @Override
    public void onCompleted() {
      answers.add(END);
    }
  }

  /** Sends checks while the window and the transport allow; half-closes after the last one. */
  private void pump() {
    synchronized (lock) {
      if (requests == null) {
        return;
      }
      try {
        while (!halfClosed && !cancelled && inFlight < window) {
          if (!source.hasNext()) {
            halfClosed = true;
            requests.onCompleted();
            break;
          }
          if (!requests.isReady()) {
            break;
          }
          requests.onNext(source.next());
          inFlight++;
          sent++;
        }
      } catch (RuntimeException e) {
        // The caller's iterator failed: cancel the call and rethrow its exception to the reader.
        sourceFailure = e;
        cancelled = true;
        requests.cancel("the check iterator failed", e);
      }
    }
  }

  @Override
  public boolean hasNext() {
    if (next != null) {
      return true;
    }
    if (done) {
      return false;
    }
    Object item;
    try {
      item = answers.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IzinException(Status.Code.CANCELLED, "interrupted", null, null, e);
    }
    if (item instanceof StreamCheckConsentsResponse) {
      next = (StreamCheckConsentsResponse) item;
      received++;
      return true;
    }
    done = true;
    synchronized (lock) {
      if (sourceFailure != null) {
        throw sourceFailure;
      }
      if (item instanceof IzinException) {
        throw (IzinException) item;
      }
      if (received != sent) {
        throw new IzinException(
            Status.Code.INTERNAL,
            "the stream ended after " + received + " of " + sent + " answers",
            null,
            null,
            null);
      }
    }
    return false;
  }

  @Override
  public StreamCheckConsentsResponse next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    StreamCheckConsentsResponse r = next;
    next = null;
    synchronized (lock) {
      inFlight--;
    }
    pump();
    return r;
  }

  /** The answers as a sequential, ordered {@link Stream}; closing it closes this. */
  public Stream<StreamCheckConsentsResponse> stream() {
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(
                this, Spliterator.ORDERED | Spliterator.NONNULL),
            false)
        .onClose(this::close);
  }

  /** Cancels the call if it is still running. */
  @Override
  public void close() {
    synchronized (lock) {
      if (!cancelled && requests != null && !done) {
        cancelled = true;
        requests.cancel("closed by the client", null);
      }
    }
    done = true;
    next = null;
  }
}
