package org.elasticsearch.node;

import java.util.Collection;

import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;

/**
 * A real node whose plugins (transport-netty4) come from the classpath rather than a distribution's modules/ folder.
 * Lives in Elasticsearch's package because the hook for choosing the plugins service is package-private.
 */
public class ClasspathPluginsNode extends Node {
  public ClasspathPluginsNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
    super(NodeConstruction.prepareConstruction(environment, new NodeServiceProvider() {
      @Override
      org.elasticsearch.plugins.PluginsService newPluginService(Environment env, org.elasticsearch.common.settings.Settings settings) {
        return new ClasspathPluginsService(settings, env, plugins);
      }
    }, true));
  }

  @Override
  protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
    // The listener only adds node and cluster ids to log lines, through logging setup we do not install.
  }
}
