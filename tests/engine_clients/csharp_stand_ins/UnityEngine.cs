// STAND-INS, NOT THE REAL API: declarations of the UnityEngine members the Sora Unity package
// uses, with empty bodies, so tests/engine_clients/test_csharp_sources.py can compile the package's C#
// under Mono and catch inconsistencies in it (a renamed core method, a missing using, a type
// mismatch). They are written from the libraries' documentation; a mistake here can hide a
// mistake there, so the package still needs a real Unity build before a release.
using System;
using System.Collections;
using System.Collections.Generic;
namespace UnityEngine {
  public class Object { public string name { get; set; } public static void Destroy(Object o) { } public static void DestroyImmediate(Object o) { } public static void DontDestroyOnLoad(Object o) { } public static T FindObjectOfType<T>() where T : Object { return null; } public static T[] FindObjectsOfType<T>() where T : Object { return null; } public static implicit operator bool(Object o) { return o != null; } }
  public class Component : Object { public GameObject gameObject { get { return null; } } public Transform transform { get { return null; } } public T GetComponent<T>() { return default(T); } public T[] GetComponentsInChildren<T>() { return null; } public string tag { get; set; } }
  public class Behaviour : Component { public bool enabled { get; set; } }
  public class MonoBehaviour : Behaviour { }
  public class ScriptableObject : Object { public static T CreateInstance<T>() where T : ScriptableObject { return null; } }
  public sealed class GameObject : Object {
    public GameObject() { } public GameObject(string name) { } public GameObject(string name, params Type[] components) { }
    public Transform transform { get { return null; } } public int layer { get; set; } public string tag { get; set; }
    public void SetActive(bool v) { } public bool activeSelf { get { return false; } }
    public T AddComponent<T>() where T : Component { return null; } public T GetComponent<T>() { return default(T); }
    public static GameObject CreatePrimitive(PrimitiveType t) { return null; }
  }
  public enum PrimitiveType { Sphere, Capsule, Cylinder, Cube, Plane, Quad }
  public class Transform : Component, IEnumerable {
    public Vector3 position { get; set; } public Quaternion rotation { get; set; } public Vector3 localPosition { get; set; } public Vector3 localScale { get; set; } public Quaternion localRotation { get; set; }
    public void SetParent(Transform p, bool worldPositionStays) { } public void SetPositionAndRotation(Vector3 p, Quaternion r) { }
    public Transform Find(string n) { return null; } public Transform GetChild(int i) { return null; } public int childCount { get { return 0; } }
    public Vector3 TransformPoint(Vector3 p) { return p; } public Vector3 TransformDirection(Vector3 d) { return d; } public bool IsChildOf(Transform t) { return false; }
    public void LookAt(Transform t) { } public Vector3 forward { get { return default(Vector3); } }
    public IEnumerator GetEnumerator() { return null; }
  }
  public struct Vector2 { public float x, y; public Vector2(float x, float y) { this.x = x; this.y = y; } public static Vector2 operator *(Vector2 a, float s) { return a; } public static Vector2 zero { get { return default(Vector2); } } }
  public struct Vector2Int { public int x, y; public Vector2Int(int x, int y) { this.x = x; this.y = y; } }
  public struct Vector3 {
    public float x, y, z; public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
    public static Vector3 zero { get { return default(Vector3); } } public static Vector3 one { get { return default(Vector3); } } public static Vector3 up { get { return default(Vector3); } } public static Vector3 forward { get { return default(Vector3); } } public static Vector3 back { get { return default(Vector3); } }
    public Vector3 normalized { get { return this; } } public float magnitude { get { return 0; } }
    public static Vector3 operator +(Vector3 a, Vector3 b) { return a; } public static Vector3 operator -(Vector3 a, Vector3 b) { return a; } public static Vector3 operator *(Vector3 a, float s) { return a; } public static Vector3 operator *(float s, Vector3 a) { return a; } public static Vector3 operator /(Vector3 a, float s) { return a; }
    public static bool operator ==(Vector3 a, Vector3 b) { return true; } public static bool operator !=(Vector3 a, Vector3 b) { return false; } public override bool Equals(object o) { return false; } public override int GetHashCode() { return 0; }
    public static float Dot(Vector3 a, Vector3 b) { return 0; } public static float Distance(Vector3 a, Vector3 b) { return 0; } public static Vector3 Lerp(Vector3 a, Vector3 b, float t) { return a; }
  }
  public struct Quaternion { public float x, y, z, w; public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
    public static Quaternion identity { get { return default(Quaternion); } } public static Quaternion operator *(Quaternion a, Quaternion b) { return a; } public static Vector3 operator *(Quaternion a, Vector3 b) { return b; }
    public static bool operator ==(Quaternion a, Quaternion b) { return true; } public static bool operator !=(Quaternion a, Quaternion b) { return false; } public override bool Equals(object o) { return false; } public override int GetHashCode() { return 0; }
    public static Quaternion AngleAxis(float a, Vector3 axis) { return identity; } public static Quaternion Euler(float x, float y, float z) { return identity; } public static Quaternion LookRotation(Vector3 f, Vector3 up) { return identity; } }
  public struct Color { public float r, g, b, a; public Color(float r, float g, float b) { this.r = r; this.g = g; this.b = b; this.a = 1; } public Color(float r, float g, float b, float a) { this.r = r; this.g = g; this.b = b; this.a = a; }
    public static Color white { get { return default(Color); } } public static Color black { get { return default(Color); } } public static Color gray { get { return default(Color); } } public static Color operator *(Color c, float s) { return c; } }
  public struct Color32 { public byte r, g, b, a; public Color32(byte r, byte g, byte b, byte a) { this.r = r; this.g = g; this.b = b; this.a = a; } }
  public struct Ray { public Ray(Vector3 o, Vector3 d) { } public Vector3 origin { get { return default(Vector3); } } public Vector3 direction { get { return default(Vector3); } } }
  public struct Rect { public Rect(float x, float y, float w, float h) { } }
  public struct Pose { public Vector3 position; public Quaternion rotation; }
  public struct LayerMask { public static implicit operator int(LayerMask m) { return 0; } public static implicit operator LayerMask(int m) { return default(LayerMask); } }
  public struct RaycastHit { public float distance { get { return 0; } } public Collider collider { get { return null; } } public Vector3 normal { get { return default(Vector3); } } public Vector3 point { get { return default(Vector3); } } }
  public enum QueryTriggerInteraction { UseGlobal, Ignore, Collide }
  public static class Physics { public static int RaycastNonAlloc(Vector3 o, Vector3 d, RaycastHit[] hits, float max, int mask, QueryTriggerInteraction q) { return 0; } }
  public class Collider : Component { }
  public class MeshCollider : Collider { public Mesh sharedMesh { get; set; } }
  public class Renderer : Component { public Material sharedMaterial { get; set; } public Material material { get; set; } public bool enabled { get; set; } }
  public class MeshRenderer : Renderer { }
  public class SkinnedMeshRenderer : Renderer { public Mesh sharedMesh { get; set; } public void SetBlendShapeWeight(int i, float w) { } public float GetBlendShapeWeight(int i) { return 0; } }
  public class MeshFilter : Component { public Mesh sharedMesh { get; set; } }
  public sealed class Mesh : Object { public Vector3[] vertices { get; set; } public Vector3[] normals { get; set; } public Color32[] colors32 { get; set; } public int[] triangles { get; set; } public int vertexCount { get { return 0; } }
    public UnityEngine.Rendering.IndexFormat indexFormat { get; set; } public void Clear() { } public void MarkDynamic() { } public void RecalculateNormals() { } public void RecalculateBounds() { }
    public int blendShapeCount { get { return 0; } } public string GetBlendShapeName(int i) { return null; } public void AddBlendShapeFrame(string n, float w, Vector3[] dv, Vector3[] dn, Vector3[] dt) { } }
  public class Material : Object { public Material(Shader s) { } public Material(Material m) { } public Color color { get; set; } public void SetColor(string n, Color c) { } public Color GetColor(string n) { return default(Color); } public bool HasProperty(string n) { return false; } }
  public sealed class Shader : Object { public static Shader Find(string n) { return null; } }
  public static class Resources { public static T Load<T>(string path) where T : Object { return null; } }
  public sealed class TextAsset : Object { public string text { get { return null; } } }
  public sealed class TextMesh : Component { public string text { get; set; } public float characterSize { get; set; } public int fontSize { get; set; } public TextAnchor anchor { get; set; } public Color color { get; set; } }
  public enum TextAnchor { LowerCenter }
  public sealed class Camera : Behaviour { public static Camera main { get { return null; } } public float fieldOfView { get; set; } public Color backgroundColor { get; set; } public CameraClearFlags clearFlags { get; set; } }
  public enum CameraClearFlags { SolidColor }
  public sealed class Light : Behaviour { public LightType type { get; set; } }
  public enum LightType { Directional }
  public sealed class AudioListener : Behaviour { }
  public sealed class AudioSource : Behaviour { public AudioClip clip { get; set; } public bool loop { get; set; } public void Play() { } public void Stop() { } }
  public sealed class AudioClip : Object { public delegate void PCMReaderCallback(float[] data); public static AudioClip Create(string n, int len, int ch, int freq, bool stream, PCMReaderCallback cb) { return null; } public int samples { get { return 0; } } public bool GetData(float[] d, int offset) { return true; } }
  public static class AudioSettings { public static int outputSampleRate { get { return 0; } } public static void GetDSPBufferSize(out int len, out int num) { len = num = 0; } }
  public static class Microphone { public static string[] devices { get { return null; } } public static AudioClip Start(string d, bool loop, int len, int freq) { return null; } public static void End(string d) { } public static int GetPosition(string d) { return 0; } }
  public static class Debug { public static void Log(object m) { } public static void LogWarning(object m) { } public static void LogError(object m) { } public static void LogException(Exception e) { } }
  public static class Time { public static float deltaTime { get { return 0; } } public static double realtimeSinceStartupAsDouble { get { return 0; } } }
  public static class Mathf { public const float Deg2Rad = 0.0174f; public static float Min(float a, float b) { return a; } public static float Max(float a, float b) { return a; } public static float Clamp01(float v) { return v; } public static float Clamp(float v, float a, float b) { return v; } public static int Clamp(int v, int a, int b) { return v; } public static int RoundToInt(float v) { return 0; } public static float Exp(float v) { return v; } public static float Sin(float v) { return v; } public static float Cos(float v) { return v; } public static float Tan(float v) { return v; } public static float Abs(float v) { return v; } }
  public static class Screen { public static ScreenOrientation orientation { get { return 0; } } public static int height { get { return 0; } } public static int width { get { return 0; } } }
  public enum ScreenOrientation { Portrait = 1, PortraitUpsideDown = 2, LandscapeLeft = 3, LandscapeRight = 4 }
  public enum KeyCode { A, D, E, Q, S, W }
  public static class Input { public static bool GetKey(KeyCode k) { return false; } public static bool GetMouseButton(int b) { return false; } public static float GetAxis(string a) { return 0; } }
  public static class ImageConversion { public static byte[] EncodeArrayToJPG(Array array, UnityEngine.Experimental.Rendering.GraphicsFormat format, uint width, uint height, uint rowBytes = 0, int quality = 75) { return null; } }
  public enum TextureFormat { RGB24 }
  public class GUIStyle { } public class GUISkin { public GUIStyle box { get { return null; } } }
  public static class GUI { public static GUISkin skin { get { return null; } } }
  public class GUILayoutOption { }
  public static class GUILayout { public static void BeginArea(Rect r, GUIStyle s) { } public static void EndArea() { } public static void Label(string t) { } public static bool Toggle(bool v, string t) { return v; } public static string TextField(string t, params GUILayoutOption[] o) { return t; } public static bool Button(string t, params GUILayoutOption[] o) { return false; } public static void BeginHorizontal() { } public static void EndHorizontal() { } public static GUILayoutOption Width(float w) { return null; } public static GUILayoutOption ExpandWidth(bool e) { return null; } }
  [AttributeUsage(AttributeTargets.Field)] public sealed class SerializeField : Attribute { }
  public sealed class HeaderAttribute : Attribute { public HeaderAttribute(string h) { } }
  public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string t) { } }
  public sealed class RangeAttribute : Attribute { public RangeAttribute(float a, float b) { } }
  public sealed class MinAttribute : Attribute { public MinAttribute(float a) { } }
  public sealed class TextAreaAttribute : Attribute { }
  public sealed class AddComponentMenu : Attribute { public AddComponentMenu(string m) { } }
  public sealed class DefaultExecutionOrder : Attribute { public DefaultExecutionOrder(int o) { } }
  public sealed class DisallowMultipleComponent : Attribute { }
  public sealed class CreateAssetMenuAttribute : Attribute { public string fileName { get; set; } public string menuName { get; set; } }
}
namespace UnityEngine.Events {
  public class UnityEvent { public void Invoke() { } }
  public class UnityEvent<T0> { public void Invoke(T0 a) { } public void AddListener(Action<T0> a) { } }
}
namespace UnityEngine.Rendering { public enum IndexFormat { UInt16, UInt32 } }
namespace UnityEngine.Experimental.Rendering { public enum GraphicsFormat { R8G8B8_SRGB } }
