// Runs one or more Elasticsearch nodes in this JVM from the artifacts Elastic publishes on Maven Central (server and
// transport-netty4), since neither the distribution nor an 8.x cluster runner is published there.
// src/instance.ts starts it detached with its output going to a log file; SIGTERM closes the nodes cleanly.
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.ClasspathPluginsNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

public final class LocalElasticsearch {
  private static final List<Node> started = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int nodes = Integer.parseInt(opts.getOrDefault("nodes", "1"));
    int httpPort = Integer.parseInt(opts.getOrDefault("http-port", "9200"));
    int transportPort = Integer.parseInt(opts.getOrDefault("transport-port", String.valueOf(httpPort + 100)));
    Path dataDir = Path.of(opts.getOrDefault("data-dir", "nodes")).toAbsolutePath();
    String clusterName = opts.getOrDefault("cluster-name", "image-search-local");
    Path logConfig = Path.of(opts.getOrDefault("log-config", "log4j2.properties")).toAbsolutePath();

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      closeAll();
      stopped.countDown();
    }));

    try {
      LogConfigurator.registerErrorListener();
      LogConfigurator.configureESLogging();
      List<String> seeds = new ArrayList<>();
      for (int n = 0; n < nodes; n++) {
        seeds.add("127.0.0.1:" + (transportPort + n));
      }
      for (int n = 0; n < nodes; n++) {
        String nodeName = "node-" + n;
        Path home = dataDir.resolve(nodeName);
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.copy(logConfig, config.resolve("log4j2.properties"), StandardCopyOption.REPLACE_EXISTING);
        Settings.Builder settings = Settings.builder()
          .put("cluster.name", clusterName)
          .put("node.name", nodeName)
          .put("path.home", home.toString())
          .put("path.data", home.resolve("data").toString())
          .put("path.logs", home.resolve("logs").toString())
          .put("network.host", "127.0.0.1")
          .put("http.port", httpPort + n)
          .put("transport.port", transportPort + n)
          // A shared development disk filling up must not turn every index read-only.
          .put("cluster.routing.allocation.disk.threshold_enabled", false);
        if (nodes == 1) {
          settings.put("discovery.type", "single-node");
        } else {
          // node-0 elects itself at once and the others join it: no node waits for a quorum that is still starting.
          settings.putList("discovery.seed_hosts", seeds).putList("cluster.initial_master_nodes", List.of("node-0"));
        }
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings.build(), Map.of(), config, () -> nodeName);
        if (n == 0) {
          LogConfigurator.setNodeName(nodes == 1 ? nodeName : clusterName);
          LogConfigurator.configure(environment, true);
        }
        Node node = new ClasspathPluginsNode(environment, List.of(Netty4Plugin.class, RootInfoPlugin.class));
        synchronized (started) {
          started.add(node);
        }
        node.start();
      }
    } catch (Throwable e) {
      // Nodes already started run non-daemon threads: exit explicitly (the hook closes them) instead of hanging.
      System.err.println("failed to start Elasticsearch: " + e);
      e.printStackTrace();
      System.exit(1);
    }
    stopped.await();
  }

  private static void closeAll() {
    synchronized (started) {
      for (Node node : started) {
        try {
          node.close();
          node.awaitClose(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          e.printStackTrace();
        }
      }
    }
  }
}
