package dev.campaignnotifier.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/**
 * Local TCP ports for the embedded servers (and the tests' own): one free now, or this one free.
 */
public final class Ports {
  private Ports() {}

  /** A port nothing listens on at this moment, chosen by the operating system. */
  public static int free() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free local port", e);
    }
  }

  /** True when nothing listens on the port yet, so a well-known port can be used. */
  public static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      socket.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
