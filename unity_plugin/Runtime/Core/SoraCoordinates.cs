// THE place where Sora's right-handed metric world meets Unity's left-handed one. Every
// conversion between the two in this package goes through this class; nothing else swaps,
// negates or re-winds anything.
namespace Sora.Core
{
    /// <summary>
    /// Converts between the Sora world frame and Unity's frame.
    /// <para>
    /// Sora (protos/sora/v1/types.proto): a right-handed, metric world frame, +Z up (the server
    /// labels floors, tables and ceilings against +Z); camera frames follow OpenCV (x right,
    /// y down, z forward); <c>pose_world_camera</c> maps camera points into the world.
    /// </para>
    /// <para>
    /// Unity: left-handed, metres, +Y up, +Z forward; a camera looks along its local +Z with +Y up.
    /// </para>
    /// <para>
    /// The mapping is the reflection M that swaps Y and Z: a Unity point (x, y, z) is the Sora
    /// point (x, z, y). Unity's right (+X) is Sora +X, Unity's forward (+Z) is Sora +Y and Unity's
    /// up (+Y) is Sora +Z, so the world a Unity app streams is right-handed and Z-up as the server
    /// expects. M is its own inverse, so each pair of methods below is the same formula.
    /// </para>
    /// <list type="bullet">
    /// <item>Points and directions: swap Y and Z.</item>
    /// <item>Rotations of world objects (planes, objects, anchors, joints): R_unity = M R_sora M.
    /// An object's local axes are converted like the world's, so a Sora plane's normal (+Z) is
    /// the Unity plane's local +Y (the side Unity's built-in Plane mesh faces).
    /// As a quaternion: (x, y, z, w) -> (-x, -z, -y, w).</item>
    /// <item>Camera and head rotations: R_sora = M R_unity F with F = diag(1, -1, 1) (Unity camera
    /// axes -> OpenCV camera axes), and back the same way.</item>
    /// <item>Sizes of boxes: swap Y and Z (box axes follow the object's local axes).</item>
    /// <item>Triangles: the wire format winds them counter-clockwise seen from outside, so
    /// cross(b - a, c - a) is the outward normal n. Unity's front face is the side its
    /// cross(b - a, c - a) points to (Unity's built-in Quad does this), and after a reflection
    /// that cross product is -M n, the inward side. Swap the second and third index of every
    /// triangle (FlipWinding) and the front faces point outward again.</item>
    /// <item>Pixels: OpenCV and Sora put (0, 0) at the top-left pixel's centre; Unity textures
    /// start at the bottom row. Flip rows (ImageRows.FlipVertically) when reading a Texture2D;
    /// intrinsics stay in OpenCV form.</item>
    /// </list>
    /// </summary>
    public static class SoraCoordinates
    {
        // Rotation by -90 degrees about X: the matrix M F, which maps OpenCV camera axes into
        // Sora world axes for a Unity camera with identity rotation (x, y, z) -> (x, z, -y).
        private static readonly Quat CameraAxes = new Quat(-0.70710678f, 0f, 0f, 0.70710678f);

        /// <summary>Unity point or direction -> Sora world.</summary>
        public static Vec3 FromUnity(Vec3 unity) { return new Vec3(unity.X, unity.Z, unity.Y); }

        /// <summary>Sora world point or direction -> Unity.</summary>
        public static Vec3 ToUnity(Vec3 sora) { return new Vec3(sora.X, sora.Z, sora.Y); }

        /// <summary>Sora rotation of a world object (plane, object, anchor, joint) -> Unity rotation.</summary>
        public static Quat RotationToUnity(Quat sora) { return Reflect(sora); }

        /// <summary>Unity rotation of a world object -> Sora rotation.</summary>
        public static Quat RotationFromUnity(Quat unity) { return Reflect(unity); }

        /// <summary>Sora <c>pose_world_camera</c> rotation (OpenCV camera axes) -> Unity camera rotation.</summary>
        public static Quat CameraRotationToUnity(Quat soraWorldCamera) { return (Reflect(soraWorldCamera) * CameraAxes).Normalized(); }

        /// <summary>Unity camera (or head) rotation -> Sora <c>pose_world_camera</c> rotation (OpenCV axes).</summary>
        public static Quat CameraRotationFromUnity(Quat unityCamera) { return (Reflect(unityCamera) * CameraAxes).Normalized(); }

        /// <summary>A world object's pose (plane, object, anchor, joint) -> Unity.</summary>
        public static RigidPose PoseToUnity(RigidPose sora) { return new RigidPose(ToUnity(sora.Position), RotationToUnity(sora.Rotation)); }

        /// <summary>A world object's Unity pose -> Sora.</summary>
        public static RigidPose PoseFromUnity(RigidPose unity) { return new RigidPose(FromUnity(unity.Position), RotationFromUnity(unity.Rotation)); }

        /// <summary>A Sora camera pose (<c>pose_world_camera</c>, OpenCV axes) -> Unity camera pose.</summary>
        public static RigidPose CameraPoseToUnity(RigidPose sora) { return new RigidPose(ToUnity(sora.Position), CameraRotationToUnity(sora.Rotation)); }

        /// <summary>A Unity camera's world pose -> Sora <c>pose_world_camera</c> (OpenCV axes).</summary>
        public static RigidPose CameraPoseFromUnity(RigidPose unity) { return new RigidPose(FromUnity(unity.Position), CameraRotationFromUnity(unity.Rotation)); }

        /// <summary>A vector in OpenCV camera axes (x right, y down, z forward) -> Unity camera axes (y up): F.</summary>
        public static Vec3 CameraVectorToUnity(Vec3 openCv) { return new Vec3(openCv.X, -openCv.Y, openCv.Z); }

        /// <summary>A vector in Unity camera axes -> OpenCV camera axes: F again.</summary>
        public static Vec3 CameraVectorFromUnity(Vec3 unity) { return new Vec3(unity.X, -unity.Y, unity.Z); }

        /// <summary>Box edge lengths along the object's local axes, Sora -> Unity (and back).</summary>
        public static Vec3 SizeToUnity(Vec3 sora) { return new Vec3(sora.X, sora.Z, sora.Y); }

        /// <summary>Plane coordinates (x, y in the plane, Sora) -> Unity plane-local (x, z) on its XZ plane.</summary>
        public static Vec3 PlanePointToUnityLocal(float planeX, float planeY) { return new Vec3(planeX, 0f, planeY); }

        /// <summary>Reverses the winding of every triangle in place (wire CCW -> Unity front faces).</summary>
        public static void FlipWinding(int[] indices)
        {
            for (int i = 0; i + 2 < indices.Length; i += 3)
            {
                int t = indices[i + 1];
                indices[i + 1] = indices[i + 2];
                indices[i + 2] = t;
            }
        }

        // M R M for the Y/Z swap M: the axis maps to M axis and the angle changes sign.
        private static Quat Reflect(Quat q) { return new Quat(-q.X, -q.Z, -q.Y, q.W); }
    }
}
