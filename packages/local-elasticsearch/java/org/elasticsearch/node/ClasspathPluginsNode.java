package org.elasticsearch.node;

import java.util.Collection;
import java.util.Map;
import java.util.Set;

import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;

/**
 * A real node whose plugins (transport-netty4) come from the classpath rather than a distribution's modules/ folder.
 * Lives in Elasticsearch's package because the hook for choosing the plugins service is package-private.
 */
public class ClasspathPluginsNode extends Node {
  public ClasspathPluginsNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
    // No module or plugin bundles on disk, and no server module exports: the server runs from the classpath.
    this(environment, PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false), plugins);
  }

  private ClasspathPluginsNode(Environment environment, PluginsLoader loader, Collection<Class<? extends Plugin>> plugins) {
    super(NodeConstruction.prepareConstruction(environment, loader, new NodeServiceProvider() {
      @Override
      org.elasticsearch.plugins.PluginsService newPluginService(Environment env, PluginsLoader pluginsLoader) {
        return new ClasspathPluginsService(env, pluginsLoader, plugins);
      }
    }, true));
  }

  @Override
  protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
    // The listener only adds node and cluster ids to log lines, through logging setup we do not install.
  }
}
