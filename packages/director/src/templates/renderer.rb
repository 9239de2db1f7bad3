# Refit's ERB renderer for BOSH job templates, run by the director as `ruby renderer.rb` (never
# through a shell). It reads one JSON request on stdin:
#
#   {"job": "<release job name>",
#    "templates": [{"source": "ctl.erb", "contents": "..."}],   # monit is one of them
#    "context": {<spec: name, id, index, az, bootstrap, deployment, address, ip, networks,
#                 job: {name}, persistent_disk, release: {name, version},
#                 properties (the job's resolved properties), links>}}
#
# and writes one JSON answer on stdout:
#
#   {"rendered": [{"source": "ctl.erb", "contents": "..."}], "errors": []}
#   {"rendered": [], "errors": [{"source": "ctl.erb", "line": 3, "message": "..."}]}
#
# The template context follows BOSH's (bosh-template's EvaluationContext): `p`, `if_p` with
# `.else` / `.else_if_p`, `spec` (nested hashes as OpenStructs), `name`, `index`, `link`,
# `if_link` with `.else` / `.else_if_link`; links have `instances`, `p`, `if_p`, `address`.
# Written for Refit from BOSH's documented behaviour.
require 'erb'
require 'json'
require 'ostruct'

module RefitTemplates
  class UnknownProperty < StandardError
    def initialize(names)
      super("Can't find property '#{names}'")
    end
  end

  class UnknownLink < StandardError
    def initialize(name)
      super("Can't find link '#{name}'")
    end
  end

  module Lookup
    # A dotted name ("a.b.c") in nested hashes; nil when any step is missing.
    def lookup_property(collection, name)
      return nil if collection.nil?
      name.to_s.split('.').reduce(collection) do |ref, key|
        return nil unless ref.is_a?(Hash)
        value = ref[key]
        return nil if value.nil?
        value
      end
    end

    def property_or_default(properties, args)
      names = Array(args[0])
      names.each do |name|
        value = lookup_property(properties, name)
        return value unless value.nil?
      end
      return args[1] if args.length == 2
      raise UnknownProperty.new(names)
    end

    def property_block(properties, names)
      values = names.map do |name|
        value = lookup_property(properties, name)
        return ActiveElseBlock.new(self) if value.nil?
        value
      end
      yield(*values)
      InactiveElseBlock.new
    end
  end

  # Returned when the guarded block did not run: its `else` runs.
  class ActiveElseBlock
    def initialize(context)
      @context = context
    end

    def else
      yield
    end

    def else_if_p(*names, &block)
      @context.if_p(*names, &block)
    end

    def else_if_link(name, &block)
      @context.if_link(name, &block)
    end
  end

  # Returned when the guarded block ran: nothing else runs.
  class InactiveElseBlock
    def else; end

    def else_if_p(*_names)
      InactiveElseBlock.new
    end

    def else_if_link(_name)
      InactiveElseBlock.new
    end
  end

  class LinkInstance
    include Lookup
    attr_reader :name, :index, :id, :az, :address, :properties, :bootstrap

    def initialize(spec)
      @name = spec['name']
      @index = spec['index']
      @id = spec['id']
      @az = spec['az']
      @address = spec['address']
      @properties = spec['properties']
      @bootstrap = spec['bootstrap']
    end

    def p(*args)
      property_or_default(@properties, args)
    end

    def if_p(*names, &block)
      property_block(@properties, names, &block)
    end
  end

  class Link
    include Lookup
    attr_reader :instances, :properties

    def initialize(spec)
      @spec = spec
      @instances = (spec['instances'] || []).map { |instance| LinkInstance.new(instance) }
      @properties = spec['properties']
    end

    def p(*args)
      property_or_default(@properties, args)
    end

    def if_p(*names, &block)
      property_block(@properties, names, &block)
    end

    # The link's address as the director resolved it (`address` in the link data).
    def address(_criteria = {})
      return @spec['address'] if @spec.key?('address')
      raise "Link address is not available: the director gave no 'address' for this link"
    end
  end

  class Context
    include Lookup
    attr_reader :name, :index, :properties, :raw_properties, :spec

    def initialize(spec)
      @name = spec['job'].is_a?(Hash) ? spec['job']['name'] : nil
      @index = spec['index']
      @raw_properties = spec['properties'] || {}
      @properties = openstruct(@raw_properties)
      @spec = openstruct(spec)
      @links = spec['links'] || {}
    end

    def p(*args)
      property_or_default(@raw_properties, args)
    end

    def if_p(*names, &block)
      property_block(@raw_properties, names, &block)
    end

    def link(name)
      link_spec = lookup_property(@links, name)
      raise UnknownLink.new(name) unless link_spec.is_a?(Hash) && link_spec.key?('instances')
      Link.new(link_spec)
    end

    def if_link(name)
      link_spec = lookup_property(@links, name)
      return ActiveElseBlock.new(self) unless link_spec.is_a?(Hash) && link_spec.key?('instances')
      yield Link.new(link_spec)
      InactiveElseBlock.new
    end

    def template_binding
      binding
    end

    private

    def openstruct(object)
      case object
      when Hash then OpenStruct.new(object.transform_values { |value| openstruct(value) })
      when Array then object.map { |item| openstruct(item) }
      else object
      end
    end
  end

  # The line of the template an error happened at: from the backtrace entry naming the
  # template (`<job>/<source>:LINE`, or `(erb):LINE`), or, for syntax errors, the message.
  def self.error_line(error, filename)
    candidates = [*(error.backtrace || [])]
    candidates.unshift(error.message) if error.is_a?(SyntaxError)
    candidates.each do |entry|
      [filename, '(erb)'].each do |marker|
        at = entry.index("#{marker}:")
        next if at.nil?
        line = entry[(at + marker.length + 1)..][/\A\d+/]
        return line.to_i unless line.nil?
      end
    end
    nil
  end

  def self.error_message(error, filename)
    return error.message unless error.is_a?(SyntaxError)
    # "<file>:3: syntax error, unexpected …" → "syntax error, unexpected …"
    first = error.message.lines.find { |l| l.include?("#{filename}:") } || error.message.lines.first.to_s
    first.sub(/\A.*?#{Regexp.escape(filename)}:\d+: /, '').strip
  end

  def self.render(request)
    job = request['job']
    rendered = []
    errors = []
    request['templates'].each do |template|
      context = Context.new(request['context'])
      filename = "#{job}/#{template['source']}"
      begin
        erb = ERB.new(template['contents'], trim_mode: '-')
        erb.filename = filename
        rendered << { 'source' => template['source'], 'contents' => erb.result(context.template_binding) }
      rescue Exception => e # rubocop:disable Lint/RescueException -- a template may raise anything
        errors << {
          'source' => template['source'],
          'line' => error_line(e, filename),
          'message' => error_message(e, filename),
          'class' => e.class.name,
        }
      end
    end
    { 'rendered' => errors.empty? ? rendered : [], 'errors' => errors }
  end
end

if $PROGRAM_NAME == __FILE__
  answer_to = $stdout
  # What templates print goes to stderr: stdout carries only the answer.
  $stdout = $stderr
  request = JSON.parse($stdin.read)
  answer_to.write(JSON.generate(RefitTemplates.render(request)))
end
