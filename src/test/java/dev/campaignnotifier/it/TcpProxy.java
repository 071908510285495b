package dev.campaignnotifier.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay in front of a real server, that a test can cut (every connection dropped,
 * new ones refused) and restore on the same port: an outage of the server as its clients see it,
 * without killing the server the other tests share.
 */
final class TcpProxy implements AutoCloseable {
  private final int port;
  private final int targetPort;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile ServerSocket listener;

  TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.port = listener.getLocalPort();
    accept(listener);
  }

  int port() {
    return port;
  }

  /** Drops every connection and refuses new ones until {@link #restore()}. */
  synchronized void cut() throws IOException {
    listener.close();
    for (Socket s : open) {
      s.close();
    }
    open.clear();
  }

  synchronized void restore() throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    listener = socket;
    accept(socket);
  }

  private void accept(ServerSocket socket) {
    Thread acceptor =
        new Thread(
            () -> {
              while (!socket.isClosed()) {
                try {
                  Socket client = socket.accept();
                  Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                  open.add(client);
                  open.add(server);
                  pipe(client, server);
                  pipe(server, client);
                } catch (IOException e) {
                  return; // the listener was closed by cut() or close()
                }
              }
            },
            "proxy-accept-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void pipe(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
              } catch (IOException e) {
                // a cut or a closed peer ends the relay; the other direction notices too
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    cut();
  }
}
